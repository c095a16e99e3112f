// Breaks rule 1: the device agent may not import the update server.
#pragma once
#include "server/storage/store.h"
