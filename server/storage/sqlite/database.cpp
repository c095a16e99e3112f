#include "server/storage/sqlite/database.h"

#include <utility>

namespace updraft::server::sqlite {

HostResult<Database> Database::open(const std::string& path) {
  Database database;
  sqlite3* db = nullptr;
  // NOMUTEX: the owner already serializes, SQLite need not lock again.
  const int rc = sqlite3_open_v2(
      path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  database.db_.reset(db);  // a handle comes back even on failure and must be closed
  if (rc != SQLITE_OK) {
    Error error = sqlite_error(db, rc);
    error.message = "cannot open " + path + ": " + error.message;
    return error;
  }
  sqlite3_extended_result_codes(db, 1);
  return database;
}

HostResult<void> Database::exec(std::string_view sql) {
  const std::string text(sql);
  const int rc = sqlite3_exec(db_.get(), text.c_str(), nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return sqlite_error(db_.get(), rc);
  return {};
}

HostResult<Statement> Database::prepare(const std::string& sql) {
  auto found = statements_.find(sql);
  if (found == statements_.end()) {
    sqlite3_stmt* stmt = nullptr;
    const int rc = sqlite3_prepare_v3(db_.get(), sql.c_str(), static_cast<int>(sql.size() + 1),
                                      SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
    if (rc != SQLITE_OK) return sqlite_error(db_.get(), rc);
    found = statements_.emplace(sql, stmt).first;
  }
  return Statement(found->second.get());
}

}  // namespace updraft::server::sqlite
