// Live events between servers on one PostgreSQL database (a private server the
// test starts; skipped, never passed, without PostgreSQL): the NOTIFY channel
// itself, and two EventBuses joined by ClusterEvents as two updraftd are.
#include "server/services/cluster_events.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "server/storage/postgres/testing/temp_postgres.h"

namespace updraft::server {
namespace {

using postgres::Connection;
using postgres::NotifyChannel;
using postgres::TempPostgres;

// What a console stream would have received.
class RecordingSink final : public EventSink {
 public:
  bool send(std::string_view type, std::string_view data) override {
    std::lock_guard lock(mutex_);
    events_.push_back(std::string(type).append(" ").append(data));
    return true;
  }
  bool closed() const override { return false; }
  std::vector<std::string> events() const {
    std::lock_guard lock(mutex_);
    return events_;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<std::string> events_;
};

// Polls for up to 10 s.
template <typename F>
bool eventually(F condition) {
  for (int i = 0; i < 500; ++i) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return condition();
}

class ClusterEventsTest : public testing::Test {
 protected:
  void SetUp() override {
    if (!TempPostgres::available())
      GTEST_SKIP() << "PostgreSQL is not installed (Debian: postgresql)";
    HostResult<TempPostgres*> shared = TempPostgres::shared();
    ASSERT_TRUE(shared.ok()) << shared.error().to_string();
    static int databases = 0;
    HostResult<std::string> uri =
        (*shared)->create_database(std::string("events_").append(std::to_string(++databases)));
    ASSERT_TRUE(uri.ok()) << uri.error().to_string();
    uri_ = *uri;
  }

  std::string uri_;
};

TEST_F(ClusterEventsTest, EveryChannelHearsEveryNotificationAndLongOnesAreRefused) {
  std::mutex mutex;
  std::vector<std::string> heard_a, heard_b;
  auto a = NotifyChannel::open(uri_, "test_channel", [&](std::string_view p) {
    std::lock_guard lock(mutex);
    heard_a.emplace_back(p);
  });
  auto b = NotifyChannel::open(uri_, "test_channel", [&](std::string_view p) {
    std::lock_guard lock(mutex);
    heard_b.emplace_back(p);
  });
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_TRUE((*a)->notify("one").ok());
  ASSERT_TRUE((*b)->notify("two, with 'quotes' and \xc3\xa9").ok());
  ASSERT_TRUE(eventually([&] {
    std::lock_guard lock(mutex);
    return heard_a.size() == 2 && heard_b.size() == 2;
  }));
  const std::vector<std::string> expected = {"one", "two, with 'quotes' and \xc3\xa9"};
  EXPECT_EQ(heard_a, expected);
  EXPECT_EQ(heard_b, expected);

  HostResult<void> long_one = (*a)->notify(std::string(NotifyChannel::kMaxPayload + 1, 'x'));
  ASSERT_FALSE(long_one.ok());
  EXPECT_EQ(long_one.error().code, ErrorCode::kInvalidArgument);
  EXPECT_TRUE((*a)->notify(std::string(NotifyChannel::kMaxPayload, 'x')).ok());
}

TEST_F(ClusterEventsTest, AListenerWhoseConnectionDiesReconnectsAndHearsWhatFollows) {
  std::atomic<int> heard{0};
  auto channel = NotifyChannel::open(uri_, "test_channel", [&](std::string_view) { ++heard; });
  ASSERT_TRUE(channel.ok());
  HostResult<Connection> admin = Connection::open(uri_);
  ASSERT_TRUE(admin.ok());
  // The database ends every listening session (a failover, an idle-session killer).
  HostResult<postgres::Statement> ended = admin->prepare(
      "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'LISTEN%' "
      "AND pid <> pg_backend_pid() AND pg_terminate_backend(pid)");
  ASSERT_TRUE(ended.ok() && ended->step().ok());
  ASSERT_EQ(ended->column<std::int64_t>(0), 1) << "the listening session was not found";
  // Notifications sent before it listens again are lost (at most once); it hears
  // the ones after.
  ASSERT_TRUE(eventually([&] {
    (void)(*channel)->notify("again");
    return heard.load() > 0;
  }));
}

// Two servers' buses, each with its console stream, joined as updraftd joins them.
TEST_F(ClusterEventsTest, AnEventPublishedOnOneServerReachesEveryServersStreamsOnce) {
  EventBus bus_a, bus_b;
  auto relay_a = ClusterEvents::start(uri_, bus_a);
  auto relay_b = ClusterEvents::start(uri_, bus_b);
  ASSERT_TRUE(relay_a.ok() && relay_b.ok());
  bus_a.set_relay(relay_a->get());
  bus_b.set_relay(relay_b->get());
  auto stream_a = std::make_shared<RecordingSink>();
  auto stream_b = std::make_shared<RecordingSink>();
  bus_a.subscribe(stream_a);
  bus_b.subscribe(stream_b);

  // More than one notification holds: the relay packs and splits them.
  std::vector<std::string> expected;
  for (int i = 0; i < 600; ++i) {
    const std::string data = R"({"id":)" + std::to_string(i) + R"(,"state":"pending"})";
    (i % 3 == 0 ? bus_b : bus_a).publish(i % 2 == 0 ? "deployment" : "campaign", data);
    expected.push_back(
        std::string(i % 2 == 0 ? "deployment" : "campaign").append(" ").append(data));
  }
  ASSERT_TRUE(eventually([&] {
    return stream_a->events().size() >= expected.size() &&
           stream_b->events().size() >= expected.size();
  })) << stream_a->events().size()
      << " and " << stream_b->events().size();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // no echo comes late
  for (const auto& stream : {stream_a, stream_b}) {
    std::vector<std::string> got = stream->events();
    std::sort(got.begin(), got.end());
    std::vector<std::string> want = expected;
    std::sort(want.begin(), want.end());
    EXPECT_EQ(got, want) << "each event exactly once on each server";
  }
  EXPECT_EQ((*relay_a)->dropped() + (*relay_b)->dropped(), 0u);
}

}  // namespace
}  // namespace updraft::server
