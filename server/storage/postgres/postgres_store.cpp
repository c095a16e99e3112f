#include "server/storage/postgres/postgres_store.h"

namespace updraft::server {
namespace {

// The advisory lock every migration step holds ("updr" in ASCII), so two nodes
// that start on a new database at once do not both apply a migration.
constexpr const char* kMigrationLock = "SELECT pg_advisory_xact_lock(1970300018)";

// The URI without its password, for messages.
std::string redacted(const std::string& uri) {
  const std::size_t scheme = uri.find("://");
  const std::size_t at = uri.find('@');
  if (scheme == std::string::npos || at == std::string::npos) return uri;
  const std::size_t colon = uri.find(':', scheme + 3);
  if (colon == std::string::npos || colon > at) return uri;
  return uri.substr(0, colon) + ":***" + uri.substr(at);
}

}  // namespace

bool PostgresStore::is_uri(const std::string& text) {
  return text.rfind("postgresql://", 0) == 0 || text.rfind("postgres://", 0) == 0;
}

HostResult<std::unique_ptr<PostgresStore>> PostgresStore::open(const std::string& uri) {
  HostResult<postgres::Connection> connection = postgres::Connection::open(uri);
  if (!connection.ok()) {
    Error error = std::move(connection).error();
    error.message = redacted(uri) + ": " + error.message;
    return error;
  }
  std::unique_ptr<PostgresStore> store(new PostgresStore(std::move(*connection)));
  HostResult<void> migrated = store->migrate();
  if (!migrated.ok()) {
    Error error = std::move(migrated).error();
    error.message = redacted(uri) + ": " + error.message;
    return error;
  }
  return store;
}

HostResult<void> PostgresStore::migrate() {
  return apply_migrations(
      postgres_migrations(),
      [this]() -> HostResult<std::int64_t> {
        UPDRAFT_TRY(db_.exec(kMigrationLock));
        UPDRAFT_TRY(
            db_.exec("CREATE TABLE IF NOT EXISTS schema_version (version BIGINT NOT NULL)"));
        UPDRAFT_TRY_ASSIGN(Statement s,
                           db_.prepare("SELECT COALESCE(MAX(version), 0) FROM schema_version"));
        UPDRAFT_TRY(s.step());
        return s.column<std::int64_t>(0);
      },
      [this](std::int64_t version) {
        return db_.exec("DELETE FROM schema_version; INSERT INTO schema_version VALUES (" +
                        std::to_string(version) + ")");
      });
}

}  // namespace updraft::server
