#include "server/storage/postgres/leader_lock.h"

namespace updraft::server::postgres {

HostResult<std::unique_ptr<LeaderLock>> LeaderLock::open(const std::string& uri, std::int64_t key) {
  std::unique_ptr<LeaderLock> lock(new LeaderLock(uri, key));
  UPDRAFT_TRY_ASSIGN(Connection connection, Connection::open(uri));
  lock->connection_ = std::make_unique<Connection>(std::move(connection));
  return lock;
}

HostResult<bool> LeaderLock::try_acquire() {
  if (connection_ == nullptr) {
    UPDRAFT_TRY_ASSIGN(Connection connection, Connection::open(uri_));
    connection_ = std::make_unique<Connection>(std::move(connection));
  }
  // Once held, the lock is ours until the session ends; asking again would stack
  // it. A cheap query shows the session (and so the lock) is still there.
  const char* sql = leading_ ? "SELECT TRUE" : "SELECT pg_try_advisory_lock(?1)";
  HostResult<Statement> statement = connection_->prepare(sql);
  HostResult<bool> row = statement.ok()
                             ? (leading_ ? statement->step() : statement->bind(1, key_).step())
                             : HostResult<bool>(statement.error());
  if (!row.ok()) {
    // The session is gone, and the lock with it: start over on a new connection.
    connection_.reset();
    leading_ = false;
    return row.error();
  }
  leading_ = *row && statement->column<bool>(0);
  return leading_;
}

}  // namespace updraft::server::postgres
