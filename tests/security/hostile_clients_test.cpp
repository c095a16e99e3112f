// updraftd under hostile clients (issue 15), a real server process on loopback:
// bodies refused before they are read, connection caps that hold under an
// open-file limit of 1,024, uploads cut only when they stall, slowloris headers,
// strict text. After each attack a normal request (GET /api/v1/health on a new
// connection) must still be answered within 100 ms.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "core/host/hex.h"
#include "crypto/sha256.h"
#include "net/http/http_client.h"
#include "tests/integration/child_process.h"

namespace updraft {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using net::http::HttpClient;
using net::http::Method;
using nlohmann::json;
namespace fs = std::filesystem;

constexpr std::uint64_t kMiB = std::uint64_t{1} << 20;
constexpr std::uint64_t kGiB = std::uint64_t{1} << 30;
constexpr double kPromptMs = 100;  // a normal request after an attack

double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

// updraftd on a fresh data folder and an ephemeral port; with `fd_limit`, under
// that open-file limit (the shell's ulimit, so the test process keeps its own).
class Server {
 public:
  explicit Server(const std::vector<std::string>& flags, int fd_limit = 0) {
    std::string pattern = (fs::temp_directory_path() / "updraft-security-XXXXXX").string();
    dir_ = ::mkdtemp(pattern.data());
    const std::string port_file = dir_ + "/port";
    std::vector<std::string> args;
    if (fd_limit > 0) {
      args = {"/bin/sh", "-c", "ulimit -n " + std::to_string(fd_limit) + " && exec \"$@\"", "sh"};
    }
    args.insert(args.end(), {UPDRAFTD, "--data", data(), "--port", "0", "--port-file", port_file});
    args.insert(args.end(), flags.begin(), flags.end());
    child_ = std::make_unique<testing::ChildProcess>(args, dir_ + "/updraftd.log");
    for (int i = 0; i < 400 && port_ == 0; ++i) {
      std::this_thread::sleep_for(25ms);
      std::ifstream(port_file) >> port_;
    }
    std::ifstream(data() + "/admin.token") >> token_;
  }
  ~Server() {
    child_->end(SIGTERM, 5'000);
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  bool started() const { return port_ != 0 && !token_.empty(); }
  std::uint16_t port() const { return port_; }
  pid_t pid() const { return child_->pid(); }
  const std::string& token() const { return token_; }
  std::string data() const { return dir_ + "/data"; }
  std::string log() const {
    std::ifstream in(dir_ + "/updraftd.log");
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  }

  // A request as the operator makes it (admin token), on a new connection.
  net::http::ClientResponse admin(Method method, const std::string& target,
                                  const std::string& body = {}) const {
    HttpClient client("127.0.0.1", port_);
    auto response = client.request(method, target, {{"authorization", "Bearer " + token_}}, body);
    EXPECT_TRUE(response.ok()) << response.error().to_string();
    return response.ok() ? *response : net::http::ClientResponse{};
  }

  // GET /api/v1/health on a new connection: the milliseconds it took (200 expected).
  double health_ms() const {
    const auto start = Clock::now();
    HttpClient client("127.0.0.1", port_);
    auto response = client.request(Method::kGet, "/api/v1/health");
    const double ms = ms_since(start);
    EXPECT_TRUE(response.ok() && response->status == 200)
        << (response.ok() ? response->body : response.error().to_string());
    return ms;
  }

  // A field of /proc/<pid>/status in kB, e.g. VmHWM: the peak resident set.
  long status_kb(const std::string& field) const {
    std::ifstream in("/proc/" + std::to_string(pid()) + "/status");
    std::string line;
    while (std::getline(in, line)) {
      if (line.rfind(field + ":", 0) == 0) return std::atol(line.c_str() + field.size() + 1);
    }
    return -1;
  }

  std::size_t open_fds() const {
    std::size_t count = 0;
    std::error_code ec;
    for (auto it = fs::directory_iterator("/proc/" + std::to_string(pid()) + "/fd", ec);
         !ec && it != fs::directory_iterator(); it.increment(ec)) {
      ++count;
    }
    return count;
  }

  std::size_t files_in(const std::string& folder) const {
    std::error_code ec;
    std::size_t count = 0;
    for (auto it = fs::directory_iterator(data() + "/" + folder, ec);
         !ec && it != fs::directory_iterator(); it.increment(ec)) {
      ++count;
    }
    return count;
  }

 private:
  std::string dir_;
  std::unique_ptr<testing::ChildProcess> child_;
  std::uint16_t port_ = 0;
  std::string token_;
};

// The rule every test ends with: the server still answers a normal request promptly.
void expect_prompt(const Server& server, const std::string& after) {
  const double ms = server.health_ms();
  std::printf("GET /api/v1/health after %s: %.1f ms\n", after.c_str(), ms);
  EXPECT_LT(ms, kPromptMs) << "after " << after;
}

// A raw TCP connection to the server from `source` (any 127/8 address), for what
// a well-behaved client never sends. Sends and receives stall at most `timeout`.
class Raw {
 public:
  Raw(std::uint16_t port, const std::string& source = "127.0.0.1",
      std::chrono::milliseconds timeout = 5s) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    set_timeout(timeout);
    sockaddr_in local{};
    local.sin_family = AF_INET;
    ::inet_pton(AF_INET, source.c_str(), &local.sin_addr);
    sockaddr_in remote{};
    remote.sin_family = AF_INET;
    remote.sin_port = htons(port);
    remote.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::bind(fd_, reinterpret_cast<sockaddr*>(&local), sizeof local) == 0 &&
                 ::connect(fd_, reinterpret_cast<sockaddr*>(&remote), sizeof remote) == 0;
  }
  ~Raw() {
    if (fd_ >= 0) ::close(fd_);
  }
  Raw(Raw&& other) noexcept : fd_(std::exchange(other.fd_, -1)), connected_(other.connected_) {}
  Raw(const Raw&) = delete;
  Raw& operator=(const Raw&) = delete;

  bool connected() const { return connected_; }

  void set_timeout(std::chrono::milliseconds timeout) {
    timeval tv{static_cast<time_t>(timeout.count() / 1000),
               static_cast<suseconds_t>(timeout.count() % 1000 * 1000)};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  }

  // All of `data`; false once the server is gone or a send stalled for the timeout.
  bool send(std::string_view data) {
    while (!data.empty()) {
      const ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      data.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }

  // Body bytes until the server stops taking them (a send stalls for the timeout
  // or fails) or `limit` went out; how many it took.
  std::uint64_t push(std::uint64_t limit) {
    const std::string chunk(256 * 1024, 'x');
    std::uint64_t sent = 0;
    while (sent < limit) {
      const ssize_t n = ::send(fd_, chunk.data(), chunk.size(), MSG_NOSIGNAL);
      if (n <= 0) break;
      sent += static_cast<std::uint64_t>(n);
    }
    return sent;
  }

  // One answer: its header and the body its content-length gives, or whatever came
  // before the server closed or the timeout passed.
  std::string answer() {
    std::string all;
    char chunk[4096];
    for (;;) {
      const std::size_t end = all.find("\r\n\r\n");
      if (end != std::string::npos) {
        std::size_t length = 0;
        const std::size_t at = all.find("content-length: ");
        if (at != std::string::npos && at < end) length = std::stoul(all.substr(at + 16));
        if (all.size() >= end + 4 + length) return all;
      }
      const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
      if (n <= 0) return all;
      all.append(chunk, static_cast<std::size_t>(n));
    }
  }

  // True when the server has closed the connection (end of stream or reset);
  // whatever it sent first (an answer) is read and dropped.
  bool closed_now() {
    char chunk[4096];
    for (;;) {
      const ssize_t n = ::recv(fd_, chunk, sizeof chunk, MSG_DONTWAIT);
      if (n == 0) return true;
      if (n < 0) return errno != EAGAIN && errno != EWOULDBLOCK;
    }
  }

  int fd() const { return fd_; }

 private:
  int fd_ = -1;
  bool connected_ = false;
};

int status_of(const std::string& answer) {
  return answer.rfind("HTTP/1.1 ", 0) == 0 ? std::atoi(answer.c_str() + 9) : 0;
}

std::string error_code_of(const std::string& answer) {
  const std::size_t body = answer.find("\r\n\r\n");
  if (body == std::string::npos) return {};
  const json parsed = json::parse(answer.substr(body + 4), nullptr, false);
  if (parsed.is_discarded() || !parsed.contains("error") || !parsed["error"].is_object()) return {};
  return parsed["error"].value("code", std::string());
}

std::string head(const std::string& request_line, const std::string& fields) {
  return request_line + " HTTP/1.1\r\nhost: updraftd\r\n" + fields + "\r\n";
}

void create_product(const Server& server, const std::string& name, std::uint32_t slot_size) {
  const auto created = server.admin(Method::kPost, "/api/v1/products",
                                    json{{"name", name}, {"slot_size", slot_size}}.dump());
  ASSERT_EQ(created.status, 201) << created.body;
}

std::string random_image(std::size_t size, unsigned seed) {
  std::mt19937_64 generator(seed);
  std::string bytes(size, '\0');
  for (std::size_t i = 0; i + 8 <= size; i += 8) {
    const std::uint64_t word = generator();
    std::memcpy(bytes.data() + i, &word, 8);
  }
  return bytes;
}

std::string sha256_hex(std::string_view bytes) {
  return to_hex(
      Sha256::digest(ByteView(reinterpret_cast<const std::byte*>(bytes.data()), bytes.size())));
}

TEST(HostileClientsTest, UnauthenticatedGigabyteBodiesAreRefusedBeforeTheyAreRead) {
  Server server({});
  ASSERT_TRUE(server.started()) << server.log();
  create_product(server, "meter", 0);  // no slot: an operator may upload up to 1 GiB

  struct Attack {
    std::string request_line;
    std::string authorization;
  };
  const std::vector<Attack> attacks = {
      {"POST /api/v1/releases?product=meter&version=9.0.0&security_counter=9&hardware=b", ""},
      {"POST /api/v1/releases?product=meter&version=9.0.1&security_counter=9&hardware=b",
       "Bearer forged-token"},
      {"POST /api/v1/products", ""},
      {"POST /api/v1/devices", "Bearer forged-token"},
      {"POST /api/v1/campaigns", ""},
      {"POST /api/v1/device/checkin", ""},
      {"POST /api/v1/device/deployments/1/report", "Bearer forged-token"},
  };
  constexpr int kWaves = 3;  // every attack three times at once: 21 connections
  std::atomic<int> refused_at_once{0};
  std::atomic<std::uint64_t> most_taken{0};
  std::vector<std::thread> attackers;
  for (int wave = 0; wave < kWaves; ++wave) {
    for (const Attack& attack : attacks) {
      attackers.emplace_back([&, attack] {
        Raw raw(server.port());
        const std::string fields =
            "content-type: application/octet-stream\r\ncontent-length: " + std::to_string(kGiB) +
            "\r\n" +
            (attack.authorization.empty() ? "" : "authorization: " + attack.authorization + "\r\n");
        const auto start = Clock::now();
        // The header and the body's first 64 KiB, then wait: the answer must come
        // although almost all of the declared gigabyte is still to be sent.
        raw.send(head(attack.request_line, fields) + std::string(64 * 1024, 'x'));
        const std::string answer = raw.answer();
        const double ms = ms_since(start);
        EXPECT_EQ(status_of(answer), 401) << attack.request_line << "\n" << answer;
        EXPECT_EQ(error_code_of(answer), "UNAUTHORIZED") << answer;
        if (status_of(answer) == 401 && ms < 2000) ++refused_at_once;
        // The rest is never read: past a bounded drain the server stops taking bytes.
        raw.set_timeout(1s);
        const std::uint64_t taken = raw.push(kGiB);
        std::uint64_t seen = most_taken.load();
        while (taken > seen && !most_taken.compare_exchange_weak(seen, taken)) {
        }
      });
    }
  }
  for (std::thread& attacker : attackers) attacker.join();
  EXPECT_EQ(refused_at_once.load(), kWaves * static_cast<int>(attacks.size()));
  std::printf("most body bytes one attacker got into the server (with kernel buffers): %.1f MiB\n",
              static_cast<double>(most_taken.load()) / kMiB);
  EXPECT_LT(most_taken.load(), 64 * kMiB);

  const double peak_mb = static_cast<double>(server.status_kb("VmHWM")) / 1024;
  std::printf("updraftd peak RSS (VmHWM) through the body attack: %.1f MB\n", peak_mb);
  EXPECT_GT(peak_mb, 0);
  EXPECT_LT(peak_mb, 200);
  expect_prompt(server, "21 unauthenticated 1 GiB bodies");
  EXPECT_EQ(server.files_in("incoming"), 0u);
}

TEST(HostileClientsTest, BodiesOverTheRouteLimitAre413BeforeOrWhileTheyAreRead) {
  Server server({});
  ASSERT_TRUE(server.started()) << server.log();
  create_product(server, "meter", 64 * 1024);
  const std::string admin = "authorization: Bearer " + server.token() + "\r\n";
  const std::string gigabyte = "content-length: " + std::to_string(kGiB) + "\r\n";

  // Declared too large: answered from the header, before a body byte is read.
  for (const auto& [request_line, fields] : std::vector<std::pair<std::string, std::string>>{
           {"POST /api/v1/products", admin + gigabyte},  // authenticated admin JSON
           {"PUT /api/v1/devices/dev-1/tags", admin + gigabyte},
           {"POST /api/v1/device/token", gigabyte},  // public device routes
           {"POST /api/v1/device/register", gigabyte},
           {"PUT /meter/controller/v1/dev-1/configData", gigabyte},  // hawkBit DDI
           // A release image larger than the product's slot.
           {"POST /api/v1/releases?product=meter&version=1.0.0&security_counter=1&hardware=b",
            admin + "content-length: 65537\r\n"},
       }) {
    Raw raw(server.port());
    const auto start = Clock::now();
    raw.send(head(request_line, fields));
    const std::string answer = raw.answer();
    EXPECT_EQ(status_of(answer), 413) << request_line << "\n" << answer;
    EXPECT_EQ(error_code_of(answer), "PAYLOAD_TOO_LARGE") << answer;
    EXPECT_LT(ms_since(start), 2000) << request_line;
  }

  // EnOS answers in its own shape, whose statuses do not include 413.
  {
    Raw raw(server.port());
    raw.send(head("POST /checkversion", gigabyte));
    const std::string answer = raw.answer();
    EXPECT_EQ(status_of(answer), 400) << answer;
    EXPECT_NE(answer.find(R"({"httpstatus":400,"message":"body: too large"})"), std::string::npos)
        << answer;
  }

  // Chunked, so the length is not declared: cut while reading, past 64 KiB.
  {
    Raw raw(server.port());
    std::string chunks;
    for (int i = 0; i < 8; ++i) chunks += "4000\r\n" + std::string(16 * 1024, ' ') + "\r\n";
    raw.send(head("POST /api/v1/products", admin + "transfer-encoding: chunked\r\n") + chunks);
    const std::string answer = raw.answer();
    EXPECT_EQ(status_of(answer), 413) << answer;
    EXPECT_EQ(error_code_of(answer), "PAYLOAD_TOO_LARGE") << answer;
  }
  // A small JSON body still goes through on the same routes.
  const auto product = server.admin(Method::kPost, "/api/v1/products",
                                    json{{"name", "gateway"}, {"slot_size", 0}}.dump());
  EXPECT_EQ(product.status, 201) << product.body;
  expect_prompt(server, "oversized bodies");
}

TEST(HostileClientsTest, TwoThousandIdleConnectionsUnderAnOpenFileLimitOf1024) {
  // This process holds the 2,000 connections: it needs more than 1,024 descriptors.
  rlimit limit{};
  ::getrlimit(RLIMIT_NOFILE, &limit);
  if (limit.rlim_cur < 3000) {
    // Root may raise the hard limit too; anyone else gets what the hard limit allows.
    limit.rlim_max = std::max<rlim_t>(limit.rlim_max, 3000);
    limit.rlim_cur = 3000;
    if (::setrlimit(RLIMIT_NOFILE, &limit) != 0) ::getrlimit(RLIMIT_NOFILE, &limit);
    if (limit.rlim_cur < 3000) {
      limit.rlim_cur = limit.rlim_max;
      ::setrlimit(RLIMIT_NOFILE, &limit);
    }
  }
  if (limit.rlim_cur < 3000) GTEST_SKIP() << "needs 3,000 open files, the hard limit is lower";

  Server server({}, 1024);
  ASSERT_TRUE(server.started()) << server.log();
  std::ifstream limits("/proc/" + std::to_string(server.pid()) + "/limits");
  const std::string limits_text{std::istreambuf_iterator<char>(limits),
                                std::istreambuf_iterator<char>()};
  EXPECT_NE(limits_text.find("Max open files            1024"), std::string::npos) << limits_text;
  // Derived from the limit: half of it minus a reserve, a quarter of that per address.
  EXPECT_NE(server.log().find("at most 480 connections, 120 per client address"), std::string::npos)
      << server.log();

  // 2,000 connections that never send a byte, from eight addresses.
  std::vector<Raw> idle;
  idle.reserve(2000);
  double worst_ms = 0;
  for (int i = 0; i < 2000; ++i) {
    idle.emplace_back(server.port(), "127.0.0." + std::to_string(2 + i % 8));
    ASSERT_TRUE(idle.back().connected()) << i;
    if (i % 250 == 249) worst_ms = std::max(worst_ms, server.health_ms());
  }
  std::printf("worst GET /api/v1/health while 2,000 idle connections opened: %.1f ms\n", worst_ms);
  EXPECT_LT(worst_ms, kPromptMs);
  expect_prompt(server, "2,000 idle connections");

  // The longest-idle connections made room: the server holds no more than its cap.
  std::size_t closed = 0;
  ASSERT_TRUE(testing::eventually([&] {
    closed = 0;
    for (Raw& raw : idle) closed += raw.closed_now() ? 1 : 0;
    return closed >= 2000 - 480;
  })) << closed;
  std::printf("updraftd under ulimit -n 1024: %zu descriptors open, %zu idle connections closed\n",
              server.open_fds(), closed);
  EXPECT_LT(server.open_fds(), 1024u);

  // One address over its share: its own longest-idle connections go, not others'.
  std::vector<Raw> greedy;
  for (int i = 0; i < 300; ++i) greedy.emplace_back(server.port(), "127.0.0.10");
  std::size_t greedy_open = 0;
  ASSERT_TRUE(testing::eventually([&] {
    greedy_open = 0;
    for (Raw& raw : greedy) greedy_open += raw.closed_now() ? 0 : 1;
    return greedy_open <= 120;
  })) << greedy_open;

  // An address whose connections are all busy (mid-request) gets no more: 503.
  std::vector<Raw> busy;
  for (int i = 0; i < 120; ++i) {
    busy.emplace_back(server.port(), "127.0.0.11");
    busy.back().send(head("POST /api/v1/device/token", "content-length: 100\r\n"));
  }
  std::this_thread::sleep_for(300ms);  // every header read, every body awaited
  Raw refused(server.port(), "127.0.0.11");
  const std::string answer = refused.answer();
  EXPECT_EQ(status_of(answer), 503) << answer;
  EXPECT_EQ(error_code_of(answer), "UNAVAILABLE") << answer;

  expect_prompt(server, "2,000 idle, 300 greedy and 120 busy connections");
}

TEST(HostileClientsTest, AnUploadThatKeepsMovingCompletesOneThatStallsIsCut) {
  // A short stall timeout stands for the default 30 s: the rule, not the wait.
  Server server({"--idle-timeout", "1"});
  ASSERT_TRUE(server.started()) << server.log();
  create_product(server, "gateway", 0);

  // 40 MB in 1 MiB pieces over about 3 s: three times the stall timeout, never
  // stalling for one. Memory stays flat: the image streams to disk.
  const std::string image = random_image(40 * kMiB, 15);
  {
    Raw raw(server.port());
    const auto start = Clock::now();
    ASSERT_TRUE(
        raw.send(head("POST /api/v1/releases?product=gateway&version=1.0.0&"
                      "security_counter=1&hardware=board-a",
                      "authorization: Bearer " + server.token() +
                          "\r\ncontent-length: " + std::to_string(image.size()) + "\r\n")));
    for (std::size_t at = 0; at < image.size(); at += kMiB) {
      ASSERT_TRUE(raw.send(std::string_view(image).substr(at, kMiB)));
      std::this_thread::sleep_for(75ms);
    }
    const std::string answer = raw.answer();
    const double seconds = ms_since(start) / 1000;
    std::printf("40 MB upload over %.1f s with a 1 s stall timeout: %d\n", seconds,
                status_of(answer));
    EXPECT_GT(seconds, 2.0);
    ASSERT_EQ(status_of(answer), 201) << answer;
    const json release = json::parse(answer.substr(answer.find("\r\n\r\n") + 4));
    EXPECT_EQ(release["sha256"], sha256_hex(image));
    EXPECT_EQ(release["size"], image.size());
    EXPECT_TRUE(fs::exists(server.data() + "/artifacts/images/" + sha256_hex(image)));
  }
  const double peak_mb = static_cast<double>(server.status_kb("VmHWM")) / 1024;
  std::printf("updraftd peak RSS (VmHWM) after the 40 MB upload: %.1f MB\n", peak_mb);
  EXPECT_LT(peak_mb, 200);

  // The same upload stalling after 1 MiB: answered 408 a stall timeout later, and
  // nothing of it is kept.
  {
    Raw raw(server.port());
    ASSERT_TRUE(
        raw.send(head("POST /api/v1/releases?product=gateway&version=2.0.0&"
                      "security_counter=2&hardware=board-a",
                      "authorization: Bearer " + server.token() +
                          "\r\ncontent-length: " + std::to_string(image.size()) + "\r\n")));
    ASSERT_TRUE(raw.send(std::string_view(image).substr(0, kMiB)));
    const auto stalled = Clock::now();
    const std::string answer = raw.answer();
    const double ms = ms_since(stalled);
    std::printf("stalled upload answered %d after %.0f ms\n", status_of(answer), ms);
    EXPECT_EQ(status_of(answer), 408) << answer;
    EXPECT_EQ(error_code_of(answer), "TRANSPORT_TIMEOUT") << answer;
    EXPECT_GT(ms, 800);
    EXPECT_LT(ms, 3000);
    EXPECT_TRUE(testing::eventually([&] { return raw.closed_now(); }, 3000));
  }
  const auto releases = server.admin(Method::kGet, "/api/v1/releases");
  ASSERT_EQ(releases.status, 200) << releases.body;
  EXPECT_EQ(json::parse(releases.body)["releases"].size(), 1u);
  EXPECT_EQ(server.files_in("incoming"), 0u);
  EXPECT_EQ(server.files_in("artifacts/images"), 1u);
  expect_prompt(server, "a slow and a stalled upload");
}

TEST(HostileClientsTest, NotesThatAreNotUtf8Are400AndNothingIsStored) {
  Server server({});
  ASSERT_TRUE(server.started()) << server.log();
  create_product(server, "meter", 0);
  const std::string image = random_image(4096, 1);
  const std::string upload =
      "/api/v1/releases?product=meter&version=1.0.0&security_counter=1&hardware=board-a";

  // "café" in Latin-1, as a shell in another locale would send it.
  const auto refused = server.admin(Method::kPost, upload + "&notes=caf%E9", image);
  EXPECT_EQ(refused.status, 400) << refused.body;
  EXPECT_EQ(json::parse(refused.body)["error"]["message"], "notes: not valid UTF-8");
  const auto releases = server.admin(Method::kGet, "/api/v1/releases");
  ASSERT_EQ(releases.status, 200) << releases.body;
  EXPECT_TRUE(json::parse(releases.body)["releases"].empty());
  EXPECT_EQ(server.files_in("artifacts/images"), 0u);
  EXPECT_EQ(server.files_in("incoming"), 0u);

  // The same in UTF-8 is stored, and the list still works for everyone.
  const auto stored = server.admin(Method::kPost, upload + "&notes=caf%C3%A9", image);
  EXPECT_EQ(stored.status, 201) << stored.body;
  const auto after = server.admin(Method::kGet, "/api/v1/releases");
  ASSERT_EQ(after.status, 200) << after.body;
  EXPECT_EQ(json::parse(after.body)["releases"][0]["notes"], "caf\xC3\xA9");
  EXPECT_EQ(server.files_in("artifacts/images"), 1u);
  expect_prompt(server, "a non-UTF-8 upload");
}

// Numbers past 2^32 were cast before their range check: a progress of
// 4294967346 was stored as 50. Each is now 400 naming the field, nothing changes,
// and the server answers promptly after.
TEST(HostileClientsTest, NumbersPastTwoToThe32AreRefusedNotWrapped) {
  Server server({});
  ASSERT_TRUE(server.started()) << server.log();
  create_product(server, "meter", 0);
  const auto device =
      server.admin(Method::kPost, "/api/v1/devices",
                   json{{"id", "m-1"}, {"product", "meter"}, {"hardware", "board-a"}}.dump());
  ASSERT_EQ(device.status, 201) << device.body;
  HttpClient client("127.0.0.1", server.port());
  const auto token = client.request(
      Method::kPost, "/api/v1/device/token", {},
      json{{"device_id", "m-1"}, {"secret", json::parse(device.body)["secret"]}}.dump());
  ASSERT_TRUE(token.ok() && token->status == 200);
  const std::string bearer = "Bearer " + json::parse(token->body)["token"].get<std::string>();
  auto device_post = [&](const std::string& target, const std::string& body) {
    HttpClient c("127.0.0.1", server.port());
    auto r = c.request(Method::kPost, target, {{"authorization", bearer}}, body);
    EXPECT_TRUE(r.ok());
    return r.ok() ? *r : net::http::ClientResponse{};
  };
  auto expect_refused = [](const net::http::ClientResponse& r, const std::string& field) {
    EXPECT_EQ(r.status, 400) << r.body;
    EXPECT_NE(r.body.find(field), std::string::npos) << r.body;
  };

  expect_refused(device_post("/api/v1/device/checkin",
                             R"({"version":"1.0.0","slot":4294967296,"battery":50})"),
                 "slot");
  expect_refused(
      device_post("/api/v1/device/checkin", R"({"version":"1.0.0","slot":0,"battery":4294967346})"),
      "battery");
  expect_refused(
      device_post("/api/v1/device/checkin", R"({"version":"1.0.0","slot":0,"battery":1e300})"),
      "battery");
  expect_refused(device_post("/api/v1/device/deployments/1/report",
                             R"({"phase":"downloading","progress":4294967346})"),
                 "progress");
  expect_refused(device_post("/api/v1/device/deployments/1/report",
                             R"({"phase":"failure","error":18446744073709551817})"),
                 "error");

  const std::string image = random_image(4096, 2);
  const auto release = server.admin(
      Method::kPost,
      "/api/v1/releases?product=meter&version=2.0.0&security_counter=1&hardware=board-a", image);
  ASSERT_EQ(release.status, 201) << release.body;
  const json campaign = {{"name", "wrap"},
                         {"product", "meter"},
                         {"release", json::parse(release.body)["id"]},
                         {"phases", json::array({{{"percent", 4294967396LL}}})}};
  expect_refused(server.admin(Method::kPost, "/api/v1/campaigns", campaign.dump()), "percent");
  json many = campaign;
  many["phases"] = json::array({{{"percent", 100}}});
  many["max_concurrent_downloads"] = 4294967297LL;
  expect_refused(server.admin(Method::kPost, "/api/v1/campaigns", many.dump()),
                 "max_concurrent_downloads");
  const auto campaigns = server.admin(Method::kGet, "/api/v1/campaigns");
  ASSERT_EQ(campaigns.status, 200) << campaigns.body;
  EXPECT_TRUE(json::parse(campaigns.body)["campaigns"].empty()) << campaigns.body;
  expect_prompt(server, "numbers past 2^32");
}

TEST(HostileClientsTest, ASlowlorisHeaderIsCutAfterTheHeaderTimeout) {
  Server server({"--header-timeout", "1"});
  ASSERT_TRUE(server.started()) << server.log();

  // 20 clients trickling a header, one field every 100 ms, for as long as the
  // server lets them.
  constexpr int kClients = 20;
  std::vector<double> cut_after_ms(kClients, 0);
  std::vector<int> statuses(kClients, 0);
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      Raw raw(server.port());
      const auto start = Clock::now();
      raw.send("GET /api/v1/health HTTP/1.1\r\nhost: updraftd\r\n");
      for (int field = 0; ms_since(start) < 6000; ++field) {
        pollfd ready{raw.fd(), POLLIN, 0};
        if (::poll(&ready, 1, 100) > 0) {
          statuses[c] = status_of(raw.answer());
          if (raw.closed_now() || testing::eventually([&] { return raw.closed_now(); }, 1000)) {
            cut_after_ms[c] = ms_since(start);
          }
          return;
        }
        raw.send("x-slow-" + std::to_string(field) + ": y\r\n");
      }
    });
  }
  double worst_ms = 0;
  for (int i = 0; i < 10; ++i) {
    worst_ms = std::max(worst_ms, server.health_ms());
    std::this_thread::sleep_for(100ms);
  }
  for (std::thread& client : clients) client.join();
  std::printf("worst GET /api/v1/health during the slowloris: %.1f ms\n", worst_ms);
  EXPECT_LT(worst_ms, kPromptMs);
  for (int c = 0; c < kClients; ++c) {
    EXPECT_EQ(statuses[c], 408) << c;
    EXPECT_GT(cut_after_ms[c], 900) << c;
    EXPECT_LT(cut_after_ms[c], 3000) << c;
  }
  std::printf("slowloris headers cut after %.0f to %.0f ms (header timeout 1 s)\n",
              *std::min_element(cut_after_ms.begin(), cut_after_ms.end()),
              *std::max_element(cut_after_ms.begin(), cut_after_ms.end()));

  // A connection that never sends a byte is closed after the header timeout too.
  Raw silent(server.port());
  const auto opened = Clock::now();
  EXPECT_TRUE(testing::eventually([&] { return silent.closed_now(); }, 3000));
  EXPECT_GT(ms_since(opened), 900);

  // A keep-alive connection between requests is idle, not slow: the idle timeout
  // (30 s here) applies, so it outlives the header timeout.
  Raw keep_alive(server.port());
  keep_alive.send(head("GET /api/v1/health", ""));
  EXPECT_EQ(status_of(keep_alive.answer()), 200);
  std::this_thread::sleep_for(1500ms);
  keep_alive.send(head("GET /api/v1/health", ""));
  EXPECT_EQ(status_of(keep_alive.answer()), 200);
  expect_prompt(server, "20 slowloris headers");
}

}  // namespace
}  // namespace updraft
