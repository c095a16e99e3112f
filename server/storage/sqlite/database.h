// One SQLite connection and its cache of prepared statements. Not thread-safe:
// the owner (SqliteStore) serializes every call.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/host/error.h"
#include "server/storage/sqlite/statement.h"

namespace updraft::server::sqlite {

class Database {
 public:
  using Statement = sqlite::Statement;
  // The outermost transaction takes the write lock up front, so it cannot fail
  // half-way for want of it.
  static constexpr const char* kBeginTransaction = "BEGIN IMMEDIATE";
  // One process owns the file and the store's mutex orders its statements: no
  // other taker can hold a row.
  static constexpr const char* kSkipLocked = "";

  // Opens or creates the database file at `path`. Extended result codes are on.
  static HostResult<Database> open(const std::string& path);

  // Runs one or more statements whose rows are not needed (pragmas, migrations).
  HostResult<void> exec(std::string_view sql);

  // The cached statement for `sql`, prepared on first use and kept until the
  // Database closes.
  HostResult<Statement> prepare(const std::string& sql);

  std::int64_t last_insert_rowid() const { return sqlite3_last_insert_rowid(db_.get()); }
  // Rows changed by the last INSERT, UPDATE or DELETE.
  std::int64_t changes() const { return sqlite3_changes64(db_.get()); }

 private:
  struct Close {
    void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
  };
  struct Finalize {
    void operator()(sqlite3_stmt* stmt) const { sqlite3_finalize(stmt); }
  };

  // Declared first so it is destroyed last, after every statement is finalized.
  std::unique_ptr<sqlite3, Close> db_;
  std::unordered_map<std::string, std::unique_ptr<sqlite3_stmt, Finalize>> statements_;
};

}  // namespace updraft::server::sqlite
