// Host-side error: a catalogue code plus a message with context (a path, a SQL error).
#pragma once

#include <string>
#include <utility>

#include "core/error_code.h"
#include "core/result.h"

namespace updraft {

struct Error {
  ErrorCode code = ErrorCode::kInternal;
  std::string message;

  Error() = default;
  Error(ErrorCode c) : code(c), message(describe(c)) {}  // NOLINT: codes convert implicitly
  Error(ErrorCode c, std::string msg) : code(c), message(std::move(msg)) {}

  // "PATCH_TRUNCATED (101): <message>"
  std::string to_string() const;
};

template <typename T>
using HostResult = Result<T, Error>;

}  // namespace updraft
