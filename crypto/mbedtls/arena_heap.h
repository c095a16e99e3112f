// mbedTLS's heap pointed at the caller's arena for one verification (portable):
// the verifiers in this folder use it so that every mbedTLS allocation comes from
// memory the device lent, and none from the C library. Internal to crypto/mbedtls.
#pragma once

#include "core/bytes.h"
#include "mbedtls/memory_buffer_alloc.h"

namespace updraft::mbedtls_internal {

// mbedTLS's heap is the arena while this lives. Declare it before the mbedTLS
// objects so that they are freed back into the arena before the arena is let go.
class ArenaHeap {
 public:
  explicit ArenaHeap(MutableByteView arena) {
    mbedtls_memory_buffer_alloc_init(reinterpret_cast<unsigned char*>(arena.data()), arena.size());
  }
  ~ArenaHeap() { mbedtls_memory_buffer_alloc_free(); }
  ArenaHeap(const ArenaHeap&) = delete;
  ArenaHeap& operator=(const ArenaHeap&) = delete;
};

}  // namespace updraft::mbedtls_internal
