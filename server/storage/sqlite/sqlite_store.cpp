#include "server/storage/sqlite/sqlite_store.h"

#include "server/storage/migrations/migrations.h"

namespace updraft::server {
namespace {

// Runs `body` and prefixes an error with the file it concerns.
template <typename Body>
HostResult<void> about(const std::string& path, Body&& body) {
  HostResult<void> result = body();
  if (result.ok()) return result;
  Error error = std::move(result).error();
  error.message = path + ": " + error.message;
  return error;
}

}  // namespace

HostResult<std::unique_ptr<SqliteStore>> SqliteStore::open(const std::string& path) {
  UPDRAFT_TRY_ASSIGN(sqlite::Database db, sqlite::Database::open(path));
  // busy_timeout first, so that switching to WAL waits for other processes.
  // Foreign keys are off while migrating (a migration may rebuild a table, which
  // SQLite allows only so), each migration is checked whole before it commits,
  // and they are on from then on.
  UPDRAFT_TRY(about(path, [&] {
    return db.exec("PRAGMA busy_timeout = " + std::to_string(kBusyTimeoutMs) +
                   "; PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;"
                   " PRAGMA foreign_keys = OFF;");
  }));
  std::unique_ptr<SqliteStore> store(new SqliteStore(std::move(db)));
  UPDRAFT_TRY(about(path, [&] { return store->migrate(); }));
  UPDRAFT_TRY(about(path, [&] { return store->db_.exec("PRAGMA foreign_keys = ON;"); }));
  return store;
}

HostResult<void> SqliteStore::migrate() {
  // BEGIN IMMEDIATE holds the write lock while the version is read, so two
  // processes opening a new file at once never both apply the same migration.
  return apply_migrations(
      sqlite_migrations(),
      [this]() -> HostResult<std::int64_t> {
        UPDRAFT_TRY_ASSIGN(Statement s, db_.prepare("PRAGMA user_version"));
        UPDRAFT_TRY(s.step());
        return s.column<std::int64_t>(0);
      },
      [this](std::int64_t version) -> HostResult<void> {
        // In the migration's transaction: a row left without its parent undoes it.
        UPDRAFT_TRY_ASSIGN(Statement check, db_.prepare("PRAGMA foreign_key_check"));
        UPDRAFT_TRY_ASSIGN(const bool orphan, check.step());
        if (orphan) {
          return Error(ErrorCode::kStoreMigration,
                       "migration to version " + std::to_string(version) + " left a row of " +
                           check.column<std::string>(0) + " without its " +
                           check.column<std::string>(2));
        }
        return db_.exec("PRAGMA user_version = " + std::to_string(version));
      });
}

}  // namespace updraft::server
