// Result<T, E>: a value or an error, without exceptions or heap (portable).
// Portable code uses E = ErrorCode; host code with context uses E = Error
// (core/host/error.h), which converts from an ErrorCode.
#pragma once

#include <type_traits>
#include <utility>

#include "core/error_code.h"

namespace updraft {

template <typename T, typename E = ErrorCode>
class [[nodiscard]] Result {
  static_assert(std::is_default_constructible_v<T>, "Result<T> stores a default-constructed T");

 public:
  Result(T value) : value_(std::move(value)) {}              // NOLINT: implicit by design
  Result(E error) : error_(std::move(error)), ok_(false) {}  // NOLINT
  // An error of another type that converts into E (ErrorCode -> Error on the host).
  // clang-format 14 folds a requires-clause into the declaration after it.
  // clang-format off
  template <typename E2>
    requires(!std::is_same_v<std::decay_t<E2>, E> && !std::is_same_v<std::decay_t<E2>, T> &&
             std::is_constructible_v<E, E2> && !std::is_constructible_v<T, E2>)
  Result(E2&& error) : error_(E(std::forward<E2>(error))), ok_(false) {}  // NOLINT
  // clang-format on

  bool ok() const { return ok_; }
  const T& value() const& { return value_; }
  T& value() & { return value_; }
  T&& value() && { return std::move(value_); }
  const T& operator*() const& { return value_; }
  T& operator*() & { return value_; }
  const T* operator->() const { return &value_; }
  T* operator->() { return &value_; }
  const E& error() const& { return error_; }
  E&& error() && { return std::move(error_); }

 private:
  T value_{};
  E error_{};
  bool ok_ = true;
};

template <typename E>
class [[nodiscard]] Result<void, E> {
 public:
  Result() = default;
  Result(E error) : error_(std::move(error)), ok_(false) {}  // NOLINT
  // clang-format off
  template <typename E2>
    requires(!std::is_same_v<std::decay_t<E2>, E> && std::is_constructible_v<E, E2>)
  Result(E2&& error) : error_(E(std::forward<E2>(error))), ok_(false) {}  // NOLINT
  // clang-format on

  bool ok() const { return ok_; }
  const E& error() const& { return error_; }
  E&& error() && { return std::move(error_); }

 private:
  E error_{};
  bool ok_ = true;
};

inline Result<void> ok_result() { return {}; }

}  // namespace updraft

#define UPDRAFT_CONCAT_INNER(a, b) a##b
#define UPDRAFT_CONCAT(a, b) UPDRAFT_CONCAT_INNER(a, b)

// Returns the error of `expr` from the enclosing function. The variable's name is
// unique per use, so a UPDRAFT_TRY inside a lambda inside another one's `expr`
// (a transaction's work, say) shadows nothing.
#define UPDRAFT_TRY(expr) UPDRAFT_TRY_IMPL(UPDRAFT_CONCAT(updraft_try_result_, __COUNTER__), expr)
#define UPDRAFT_TRY_IMPL(tmp, expr)               \
  do {                                            \
    auto&& tmp = (expr);                          \
    if (!tmp.ok()) return std::move(tmp).error(); \
  } while (0)

// `UPDRAFT_TRY_ASSIGN(Type name, expr);` declares `name` from the value of `expr`,
// or returns its error.
#define UPDRAFT_TRY_ASSIGN(decl, expr) \
  UPDRAFT_TRY_ASSIGN_IMPL(UPDRAFT_CONCAT(updraft_try_tmp_, __COUNTER__), decl, expr)
#define UPDRAFT_TRY_ASSIGN_IMPL(tmp, decl, expr) \
  auto tmp = (expr);                             \
  if (!tmp.ok()) return std::move(tmp).error();  \
  decl = std::move(tmp).value()
