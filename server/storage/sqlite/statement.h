// A prepared SQLite statement borrowed from Database's cache, and the mapping of
// SQLite result codes to store errors. Not thread-safe: the store serializes use.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>

#include "core/host/error.h"

namespace updraft::server::sqlite {

// The store error for SQLite result code `rc`, with SQLite's message:
// constraint -> kStoreConflict (kStoreNotFound for a missing foreign key),
// busy/locked -> kStoreBusy, corrupt/not a database -> kStoreCorrupt, else kStoreIo.
Error sqlite_error(sqlite3* db, int rc);

// Binds parameters, steps and reads columns of one cached statement. On
// destruction it resets the statement and clears its bindings, so no read stays
// open and the next user finds it fresh. One Statement per cached SQL at a time.
class Statement {
 public:
  Statement() = default;
  explicit Statement(sqlite3_stmt* stmt) : stmt_(stmt) {}
  Statement(Statement&& other) noexcept : stmt_(other.stmt_) { other.stmt_ = nullptr; }
  Statement& operator=(Statement&& other) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement();

  // Parameters are numbered from 1 (?1, ?2, ...). Integers, enums and bools are
  // stored as 64-bit integers; a std::uint64_t keeps its bits.
  Statement& bind(int index, std::string_view text);
  Statement& bind(int index, double value);
  template <typename T>
  requires(std::is_integral_v<T> || std::is_enum_v<T>) Statement& bind(int index, T value) {
    sqlite3_bind_int64(stmt_, index, static_cast<sqlite3_int64>(value));
    return *this;
  }

  // True when a row is ready to read, false when the statement is done.
  HostResult<bool> step();
  // Steps a statement that returns no rows.
  HostResult<void> run();
  // Rows the last INSERT, UPDATE or DELETE on this connection changed.
  std::int64_t changes() const { return sqlite3_changes64(sqlite3_db_handle(stmt_)); }

  // Columns are numbered from 0 and converted like bind().
  template <typename T>
  T column(int index) const {
    if constexpr (std::is_same_v<T, std::string>) {
      const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, index));
      return text == nullptr
                 ? std::string()
                 : std::string(text, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, index)));
    } else if constexpr (std::is_same_v<T, double>) {
      return sqlite3_column_double(stmt_, index);
    } else if constexpr (std::is_same_v<T, bool>) {
      return sqlite3_column_int64(stmt_, index) != 0;
    } else {
      return static_cast<T>(sqlite3_column_int64(stmt_, index));
    }
  }

 private:
  sqlite3_stmt* stmt_ = nullptr;
};

}  // namespace updraft::server::sqlite
