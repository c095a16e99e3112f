// The schema migrations of each database: the files migrations/<db>/NNNN_<name>.sql,
// embedded into the library at build time (see ../CMakeLists.txt). Element i takes
// a database from schema version i to i + 1 (SQLite keeps the version in PRAGMA
// user_version, PostgreSQL in the table schema_version). A released migration is
// never edited; a schema change is a new file with the next number, for each
// database, so that the queries in sql/sql_store.cpp keep serving both.
#pragma once

#include <span>
#include <string_view>

namespace updraft::server {

struct Migration {
  std::string_view name;  // file name, e.g. "0001_initial.sql"
  std::string_view sql;
};

std::span<const Migration> sqlite_migrations();
std::span<const Migration> postgres_migrations();

}  // namespace updraft::server
