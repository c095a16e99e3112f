// Breaks rule 2: <string> allocates; portable code may not include it.
#pragma once
#include <string>
