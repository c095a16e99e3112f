#include "server/storage/sqlite/statement.h"

#include <utility>

namespace updraft::server::sqlite {

Error sqlite_error(sqlite3* db, int rc) {
  std::string message = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  switch (rc & 0xff) {
    case SQLITE_CONSTRAINT:
      if (rc == SQLITE_CONSTRAINT_FOREIGNKEY) {
        return Error(ErrorCode::kStoreNotFound, "refers to a missing record (" + message + ")");
      }
      return Error(ErrorCode::kStoreConflict, "already exists (" + message + ")");
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return Error(ErrorCode::kStoreBusy, std::move(message));
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return Error(ErrorCode::kStoreCorrupt, std::move(message));
    default:
      return Error(ErrorCode::kStoreIo, std::move(message));
  }
}

Statement& Statement::operator=(Statement&& other) noexcept {
  std::swap(stmt_, other.stmt_);
  return *this;
}

Statement::~Statement() {
  if (stmt_ == nullptr) return;
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

Statement& Statement::bind(int index, std::string_view text) {
  // An empty view may have no data pointer, which SQLite would bind as NULL.
  sqlite3_bind_text64(stmt_, index, text.empty() ? "" : text.data(), text.size(), SQLITE_TRANSIENT,
                      SQLITE_UTF8);
  return *this;
}

Statement& Statement::bind(int index, double value) {
  sqlite3_bind_double(stmt_, index, value);
  return *this;
}

HostResult<bool> Statement::step() {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return sqlite_error(sqlite3_db_handle(stmt_), rc);
}

HostResult<void> Statement::run() {
  UPDRAFT_TRY_ASSIGN(const bool row, step());
  (void)row;  // a write returns no row; a pragma's answer is not needed
  return {};
}

}  // namespace updraft::server::sqlite
