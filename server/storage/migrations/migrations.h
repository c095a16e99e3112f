// The SQLite schema migrations: the files migrations/NNNN_<name>.sql, embedded into
// the library at build time (see ../CMakeLists.txt). migrations()[i] takes a
// database from PRAGMA user_version i to i + 1. A released migration is never
// edited; a schema change is a new file with the next number.
#pragma once

#include <span>
#include <string_view>

namespace updraft::server::sqlite {

struct Migration {
  std::string_view name;  // file name, e.g. "0001_initial.sql"
  std::string_view sql;
};

std::span<const Migration> migrations();

}  // namespace updraft::server::sqlite
