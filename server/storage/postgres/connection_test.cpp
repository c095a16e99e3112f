// The libpq connection against a real PostgreSQL server started for the test
// (TempPostgres): parameters and columns round-trip, SQLSTATEs map to store
// errors, prepared statements are reused, transactions roll back. Skipped, never
// passed, when PostgreSQL is not installed.
#include "server/storage/postgres/connection.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <limits>
#include <thread>

#include "server/storage/postgres/leader_lock.h"
#include "server/storage/postgres/testing/temp_postgres.h"

namespace updraft::server::postgres {
namespace {

TEST(NumberedParametersTest, TurnsSqliteParametersIntoPostgresOnesOutsideQuotes) {
  EXPECT_EQ(numbered_parameters("SELECT ?1, ?12 FROM t WHERE a = '?2' AND \"?3\" = ?4 AND b ? c"),
            "SELECT $1, $12 FROM t WHERE a = '?2' AND \"?3\" = $4 AND b ? c");
  EXPECT_EQ(numbered_parameters("x = 'it''s ?1' OR y = ?2"), "x = 'it''s ?1' OR y = $2");
}

class ConnectionTest : public testing::Test {
 protected:
  void SetUp() override {
    if (!TempPostgres::available())
      GTEST_SKIP() << "PostgreSQL is not installed (Debian: postgresql)";
    HostResult<TempPostgres*> shared = TempPostgres::shared();
    ASSERT_TRUE(shared.ok()) << shared.error().to_string();
    server_ = *shared;
    static int databases = 0;
    HostResult<std::string> uri =
        server_->create_database(std::string("test_").append(std::to_string(++databases)));
    ASSERT_TRUE(uri.ok()) << uri.error().to_string();
    HostResult<Connection> opened = Connection::open(*uri);
    ASSERT_TRUE(opened.ok()) << opened.error().to_string();
    db_.emplace(std::move(*opened));
    ASSERT_TRUE(
        db_->exec("CREATE TABLE parents (id BIGSERIAL PRIMARY KEY, name TEXT NOT NULL UNIQUE);"
                  "CREATE TABLE children (id BIGINT PRIMARY KEY, parent BIGINT NOT NULL "
                  "REFERENCES parents (id), ratio DOUBLE PRECISION NOT NULL, note TEXT)")
            .ok());
  }

  TempPostgres* server_ = nullptr;
  std::optional<Connection> db_;
};

enum class Color : std::uint8_t { kRed = 1, kBlue = 7 };

TEST_F(ConnectionTest, ParametersAndColumnsRoundTrip) {
  const std::string text = "quote ' double \" backslash \\ and UTF-8 \xc3\xa9\xe2\x82\xac";
  for (const std::int64_t value : {std::numeric_limits<std::int64_t>::min(), std::int64_t{-1},
                                   std::int64_t{0}, std::numeric_limits<std::int64_t>::max()}) {
    HostResult<Statement> s = db_->prepare(
        "SELECT ?1::BIGINT, ?2::TEXT, ?3::DOUBLE PRECISION, "
        "?4::BIGINT, ?5::BIGINT, ?6::TEXT, ?7::BIGINT");
    ASSERT_TRUE(s.ok()) << s.error().to_string();
    s->bind(1, value).bind(2, text).bind(3, 0.1).bind(4, std::uint32_t{4000000000u});
    s->bind(5, Color::kBlue).bind(6, std::string_view()).bind(7, true);
    HostResult<bool> row = s->step();
    ASSERT_TRUE(row.ok()) << row.error().to_string();
    ASSERT_TRUE(*row);
    EXPECT_EQ(s->column<std::int64_t>(0), value);
    EXPECT_EQ(s->column<std::string>(1), text);
    EXPECT_EQ(s->column<double>(2), 0.1);
    EXPECT_EQ(s->column<std::uint32_t>(3), 4000000000u);
    EXPECT_EQ(s->column<Color>(4), Color::kBlue);
    EXPECT_EQ(s->column<std::string>(5), "");
    EXPECT_TRUE(s->column<bool>(6));
    EXPECT_FALSE(*s->step());
  }
}

TEST_F(ConnectionTest, CountsChangedRowsAndReturnsInsertedIds) {
  for (const char* name : {"a", "b", "c"}) {
    HostResult<Statement> s = db_->prepare("INSERT INTO parents (name) VALUES (?1) RETURNING id");
    ASSERT_TRUE(s.ok());
    s->bind(1, name);
    ASSERT_TRUE(*s->step());
    EXPECT_GT(s->column<std::int64_t>(0), 0);
  }
  HostResult<Statement> update =
      db_->prepare("UPDATE parents SET name = name || '!' WHERE name != ?1");
  ASSERT_TRUE(update.ok());
  update->bind(1, "b");
  ASSERT_TRUE(update->run().ok());
  EXPECT_EQ(update->changes(), 2);
}

TEST_F(ConnectionTest, ConstraintViolationsBecomeStoreErrors) {
  HostResult<Statement> insert = db_->prepare("INSERT INTO parents (name) VALUES (?1)");
  ASSERT_TRUE(insert.ok());
  insert->bind(1, "same");
  ASSERT_TRUE(insert->run().ok());
  HostResult<Statement> again = db_->prepare("INSERT INTO parents (name) VALUES (?1)");
  ASSERT_TRUE(again.ok());
  again->bind(1, "same");
  HostResult<void> duplicate = again->run();
  ASSERT_FALSE(duplicate.ok());
  EXPECT_EQ(duplicate.error().code, ErrorCode::kStoreConflict);
  EXPECT_NE(duplicate.error().message.find("parents_name_key"), std::string::npos)
      << duplicate.error().message;

  HostResult<Statement> orphan =
      db_->prepare("INSERT INTO children (id, parent, ratio) VALUES (?1, ?2, ?3)");
  ASSERT_TRUE(orphan.ok());
  orphan->bind(1, 1).bind(2, 999).bind(3, 0.5);
  HostResult<void> missing = orphan->run();
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ErrorCode::kStoreNotFound);

  HostResult<Statement> bad = db_->prepare("SELEKT 1");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, ErrorCode::kStoreIo);
  EXPECT_NE(bad.error().message.find("syntax error"), std::string::npos) << bad.error().message;
}

TEST_F(ConnectionTest, ARolledBackTransactionLeavesNothing) {
  ASSERT_TRUE(db_->exec("BEGIN").ok());
  HostResult<Statement> insert = db_->prepare("INSERT INTO parents (name) VALUES (?1)");
  ASSERT_TRUE(insert.ok());
  insert->bind(1, "gone");
  ASSERT_TRUE(insert->run().ok());
  ASSERT_TRUE(db_->exec("ROLLBACK").ok());
  HostResult<Statement> count = db_->prepare("SELECT COUNT(*) FROM parents");
  ASSERT_TRUE(count.ok());
  ASSERT_TRUE(*count->step());
  EXPECT_EQ(count->column<std::int64_t>(0), 0);
}

TEST_F(ConnectionTest, AServerThatIsNotThereIsAnIoErrorWithTheReason) {
  // The test server's port with a database that does not exist, then a closed port.
  HostResult<Connection> no_database = Connection::open(server_->uri("no_such_database"));
  ASSERT_FALSE(no_database.ok());
  EXPECT_EQ(no_database.error().code, ErrorCode::kStoreIo);
  EXPECT_NE(no_database.error().message.find("no_such_database"), std::string::npos)
      << no_database.error().message;
  HostResult<Connection> closed =
      Connection::open("postgresql://updraft@127.0.0.1:1/x?connect_timeout=2");
  ASSERT_FALSE(closed.ok());
  EXPECT_NE(closed.error().message.find("cannot connect to PostgreSQL"), std::string::npos);
}

TEST_F(ConnectionTest, OneProcessLeadsAndAnotherTakesOverWhenItsConnectionEnds) {
  const std::string uri = server_->uri();
  HostResult<std::unique_ptr<LeaderLock>> first = LeaderLock::open(uri, kSchedulerLeaderKey);
  HostResult<std::unique_ptr<LeaderLock>> second = LeaderLock::open(uri, kSchedulerLeaderKey);
  HostResult<std::unique_ptr<LeaderLock>> other_role = LeaderLock::open(uri, 42);
  ASSERT_TRUE(first.ok() && second.ok() && other_role.ok());
  EXPECT_TRUE(*(*first)->try_acquire());
  EXPECT_FALSE(*(*second)->try_acquire());
  EXPECT_TRUE(*(*first)->try_acquire()) << "a leader stays leader";
  EXPECT_TRUE(*(*other_role)->try_acquire()) << "another key is another role";

  first->reset();  // the leader's connection ends, as when its process dies
  bool took_over = false;
  for (int i = 0; i < 100 && !took_over; ++i) {
    took_over = *(*second)->try_acquire();
    if (!took_over) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_TRUE(took_over) << "the lock was not released within 5 s";
}

}  // namespace
}  // namespace updraft::server::postgres
