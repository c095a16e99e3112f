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
  UPDRAFT_TRY(about(path, [&] {
    return db.exec("PRAGMA busy_timeout = " + std::to_string(kBusyTimeoutMs) +
                   "; PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;"
                   " PRAGMA foreign_keys = ON;");
  }));
  std::unique_ptr<SqliteStore> store(new SqliteStore(std::move(db)));
  UPDRAFT_TRY(about(path, [&] { return store->migrate(); }));
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
      [this](std::int64_t version) {
        return db_.exec("PRAGMA user_version = " + std::to_string(version));
      });
}

}  // namespace updraft::server
