// Breaks rule 2: portable code may not include a host path.
#pragma once
#include "core/host/file.h"
