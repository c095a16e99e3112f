// The Store on a PostgreSQL database, for several updraftd processes sharing one
// fleet (docs/design.md, "Deploying at scale"). The queries are SqlStore's, the
// same as SQLite's; the schema is migrations/postgres/.
//
// Durability: a method that returned ok has committed on the server. Threads: one
// connection per store, serialized like SqliteStore's; several processes (or
// stores) on one database are isolated by PostgreSQL (READ COMMITTED).
#pragma once

#include <memory>
#include <string>

#include "server/storage/postgres/connection.h"
#include "server/storage/sql/sql_store.h"

namespace updraft::server {

class PostgresStore final : public SqlStore<postgres::Connection> {
 public:
  // Connects (a libpq URI, "postgresql://user@host:port/database", or key=value
  // string) and applies pending migrations, each in its own transaction under an
  // advisory lock, so nodes starting together migrate once. kStoreIo when the
  // server cannot be reached; kStoreMigration as for SqliteStore.
  static HostResult<std::unique_ptr<PostgresStore>> open(const std::string& uri);

  // True for the strings open() takes rather than a file path.
  static bool is_uri(const std::string& text);

 private:
  explicit PostgresStore(postgres::Connection db) : SqlStore(std::move(db)) {}

  HostResult<void> migrate();
};

}  // namespace updraft::server
