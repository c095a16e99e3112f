// The Store on one SQLite file: the embedded default for a single server.
//
// Durability: WAL journal with synchronous=NORMAL. A method that returned ok has
// committed to the WAL, so a crash of the process (kill -9) loses none of it; a
// power cut or OS crash may lose the last commits, never the file's consistency.
// Other processes may open the same file; they wait up to kBusyTimeoutMs for its
// write lock, then the call fails with kStoreBusy. Queries: sql/sql_store.h.
#pragma once

#include <memory>
#include <string>

#include "server/storage/sql/sql_store.h"
#include "server/storage/sqlite/database.h"

namespace updraft::server {

class SqliteStore final : public SqlStore<sqlite::Database> {
 public:
  static constexpr int kBusyTimeoutMs = 5000;

  // Opens or creates the database at `path` and applies pending migrations, each
  // in its own transaction. kStoreMigration for a database whose schema is newer
  // than this code or whose migration fails; kStoreCorrupt for a file that is not
  // a database.
  static HostResult<std::unique_ptr<SqliteStore>> open(const std::string& path);

 private:
  explicit SqliteStore(sqlite::Database db) : SqlStore(std::move(db)) {}

  HostResult<void> migrate();
};

}  // namespace updraft::server
