// updraft-modem as a real process, between a test device speaking SLIP on its
// UART port and echo servers on loopback: a UDP one, an OpenSSL DTLS-PSK one, and
// libcoap's coap-server-openssl when it is installed.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <chrono>
#include <deque>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "agent/link/slip.h"
#include "tests/integration/child_process.h"

namespace updraft::sim {
namespace {

namespace fs = std::filesystem;
using Bytes = std::vector<std::byte>;
using Clock = std::chrono::steady_clock;
using testing::ChildProcess;
using testing::eventually;

Bytes random_bytes(std::mt19937& rng, std::size_t size) {
  Bytes b(size);
  for (std::byte& x : b) x = rng() % 4 == 0 ? agent::link::kSlipEnd : static_cast<std::byte>(rng());
  return b;
}

// A payload that names its place in the run in its first 4 bytes.
Bytes numbered(std::uint32_t n, std::size_t size) {
  Bytes b(size, agent::link::kSlipEsc);
  for (std::size_t i = 0; i < 4; ++i) b[i] = static_cast<std::byte>(n >> (8 * i));
  return b;
}

std::uint32_t number_of(const Bytes& b) {
  std::uint32_t n = 0;
  for (std::size_t i = 0; i < 4; ++i) n |= std::to_integer<std::uint32_t>(b[i]) << (8 * i);
  return n;
}

int bits_between(const Bytes& a, const Bytes& b) {
  if (a.size() != b.size()) return -1;
  int bits = 0;
  for (std::size_t i = 0; i < a.size(); ++i)
    bits += std::popcount(std::to_integer<unsigned>(a[i] ^ b[i]));
  return bits;
}

std::uint16_t port_of(int fd) {
  sockaddr_in a{};
  socklen_t length = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &length);
  return ntohs(a.sin_port);
}

sockaddr_in loopback(std::uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

int bound_socket(int type, std::uint16_t port = 0) {
  const int fd = ::socket(AF_INET, type | SOCK_CLOEXEC, 0);
  const sockaddr_in a = loopback(port);
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

class TempDir {
 public:
  TempDir() {
    static int counter = 0;
    path_ = fs::temp_directory_path() /
            ("updraft-modem-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TempDir() { fs::remove_all(path_); }
  std::string operator/(const std::string& name) const { return (path_ / name).string(); }

 private:
  fs::path path_;
};

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// updraft-modem with its UART on a free loopback port, its counters in a file.
class ModemProcess {
 public:
  ModemProcess(const TempDir& dir, const std::vector<std::string>& options)
      : port_file_(dir / "uart.port"), stats_file_(dir / "stats.json"), log_(dir / "modem.log") {
    std::vector<std::string> args = {UPDRAFT_MODEM,      "--uart-listen", "127.0.0.1:0",
                                     "--uart-port-file", port_file_,      "--stats",
                                     stats_file_,        "--exit-after",  "300"};
    args.insert(args.end(), options.begin(), options.end());
    process_ = std::make_unique<ChildProcess>(args, log_);
  }

  // The UART port once the modem listens; 0 when it does not within the wait.
  std::uint16_t port() {
    if (!eventually([&] { return fs::exists(port_file_); })) return 0;
    return static_cast<std::uint16_t>(std::stoi(read_text(port_file_)));
  }
  // The counters as the modem last wrote them (every second); null before that.
  nlohmann::json stats() const {
    return nlohmann::json::parse(read_text(stats_file_), nullptr, false);
  }
  // Waits (bounded) until `field` of the counters reaches `value`.
  bool stats_reach(const std::string& field, std::uint64_t value) const {
    return eventually([&] {
      const nlohmann::json s = stats();
      return s.is_object() && s.value(field, std::uint64_t{0}) >= value;
    });
  }
  int stop() { return process_->end(SIGTERM); }
  int wait(int timeout_ms) { return process_->wait(timeout_ms); }
  std::string log() const { return read_text(log_); }
  // The one-line JSON summary printed at exit.
  nlohmann::json summary() const {
    std::istringstream lines(log());
    nlohmann::json last;
    for (std::string line; std::getline(lines, line);)
      if (!line.empty() && line.front() == '{') last = nlohmann::json::parse(line, nullptr, false);
    return last;
  }

 private:
  std::string port_file_;
  std::string stats_file_;
  std::string log_;
  std::unique_ptr<ChildProcess> process_;
};

// The emulated device: its end of the UART, speaking SLIP.
class Device {
 public:
  explicit Device(std::uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const sockaddr_in a = loopback(port);
    connected_ = ::connect(fd_, reinterpret_cast<const sockaddr*>(&a), sizeof a) == 0;
  }
  ~Device() { ::close(fd_); }
  bool connected() const { return connected_; }

  std::size_t send(const Bytes& payload) {
    Bytes frame(agent::link::slip_max_encoded_size(payload.size()));
    frame.resize(*agent::link::slip_encode(payload, frame));
    send_raw(frame);
    return frame.size();
  }
  void send_raw(const Bytes& bytes) {
    for (std::size_t sent = 0; sent < bytes.size();) {
      const ssize_t n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
      ASSERT_GT(n, 0);
      sent += static_cast<std::size_t>(n);
    }
  }
  // The next frame from the modem, waiting at most `timeout_ms`.
  std::optional<Bytes> receive(int timeout_ms = 5000) {
    const Clock::time_point until = Clock::now() + std::chrono::milliseconds(timeout_ms);
    while (frames_.empty()) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now());
      pollfd p{fd_, POLLIN, 0};
      if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0) return {};
      std::array<std::byte, 4096> chunk;
      const ssize_t n = ::recv(fd_, chunk.data(), chunk.size(), 0);
      if (n <= 0) return {};
      ByteView input(chunk.data(), static_cast<std::size_t>(n));
      while (!input.empty()) {
        const Result<ByteView> frame = decoder_.next(input);
        if (frame.ok() && frame->empty()) break;
        if (frame.ok()) frames_.emplace_back(frame->begin(), frame->end());
        if (!frame.ok()) ++errors_;
      }
    }
    Bytes frame = std::move(frames_.front());
    frames_.pop_front();
    return frame;
  }
  // Every frame that comes until none has for `quiet_ms`.
  std::vector<Bytes> receive_all(int quiet_ms) {
    std::vector<Bytes> all;
    while (std::optional<Bytes> f = receive(quiet_ms)) all.push_back(std::move(*f));
    return all;
  }
  int errors() const { return errors_; }

 private:
  int fd_ = -1;
  bool connected_ = false;
  Bytes buffer_ = Bytes(4096);
  agent::link::SlipDecoder decoder_{buffer_};
  std::deque<Bytes> frames_;
  int errors_ = 0;
};

// Answers each UDP datagram with itself and keeps what it received.
class UdpEchoServer {
 public:
  UdpEchoServer() : fd_(bound_socket(SOCK_DGRAM)), thread_([this] { serve(); }) {}
  ~UdpEchoServer() {
    stop_ = true;
    thread_.join();
    ::close(fd_);
  }
  std::uint16_t port() const { return port_of(fd_); }
  std::vector<Bytes> received() const {
    std::lock_guard lock(mutex_);
    return received_;
  }
  std::size_t count() const { return received().size(); }
  Clock::time_point last_arrival() const {
    std::lock_guard lock(mutex_);
    return last_arrival_;
  }

 private:
  void serve() {
    std::array<std::byte, 65536> datagram;
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 20) <= 0) continue;
      sockaddr_in from{};
      socklen_t length = sizeof from;
      const ssize_t n = ::recvfrom(fd_, datagram.data(), datagram.size(), 0,
                                   reinterpret_cast<sockaddr*>(&from), &length);
      if (n < 0) continue;
      {
        std::lock_guard lock(mutex_);
        received_.emplace_back(datagram.begin(), datagram.begin() + n);
        last_arrival_ = Clock::now();
      }
      ::sendto(fd_, datagram.data(), static_cast<std::size_t>(n), 0,
               reinterpret_cast<const sockaddr*>(&from), length);
    }
  }

  int fd_;
  std::atomic<bool> stop_{false};
  mutable std::mutex mutex_;
  std::vector<Bytes> received_;
  Clock::time_point last_arrival_;
  std::thread thread_;  // last: starts once the rest is built
};

const std::string kIdentity = "meter-0001";
// What updraftd expects: the 64 hex characters of SHA-256(device secret).
const std::string kKey = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

// An OpenSSL DTLS 1.2 server with a pre-shared key that echoes each record, for
// one client. It keeps the plaintext it received and notes a close_notify.
class DtlsEchoServer {
 public:
  DtlsEchoServer() : fd_(bound_socket(SOCK_DGRAM | SOCK_NONBLOCK)) {
    ctx_ = SSL_CTX_new(DTLS_server_method());
    SSL_CTX_set_cipher_list(ctx_, "PSK");
    SSL_CTX_set_psk_server_callback(
        ctx_, [](SSL*, const char* identity, unsigned char* psk, unsigned int max) -> unsigned int {
          if (identity == nullptr || identity != kIdentity || kKey.size() > max) return 0;
          std::memcpy(psk, kKey.data(), kKey.size());
          return static_cast<unsigned int>(kKey.size());
        });
    thread_ = std::thread([this] { serve(); });
  }
  ~DtlsEchoServer() {
    stop_ = true;
    thread_.join();
    SSL_CTX_free(ctx_);
    ::close(fd_);
  }
  std::uint16_t port() const { return port_of(fd_); }
  std::vector<Bytes> received() const {
    std::lock_guard lock(mutex_);
    return received_;
  }
  bool closed_by_client() const { return closed_; }

 private:
  void serve() {
    // The first datagram names the client; the socket then talks to it alone.
    sockaddr_in peer{};
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 20) <= 0) continue;
      socklen_t length = sizeof peer;
      char byte;
      if (::recvfrom(fd_, &byte, 1, MSG_PEEK, reinterpret_cast<sockaddr*>(&peer), &length) < 0)
        continue;
      ::connect(fd_, reinterpret_cast<const sockaddr*>(&peer), length);
      break;
    }
    SSL* ssl = SSL_new(ctx_);
    BIO* bio = BIO_new_dgram(fd_, BIO_NOCLOSE);
    BIO_ctrl(bio, BIO_CTRL_DGRAM_SET_CONNECTED, 0, &peer);
    SSL_set_bio(ssl, bio, bio);
    SSL_set_accept_state(ssl);
    std::array<std::byte, 1 << 14> record;
    while (!stop_ && !closed_) {
      pollfd p{fd_, POLLIN, 0};
      ::poll(&p, 1, 20);
      if (!SSL_is_init_finished(ssl)) {
        if (SSL_do_handshake(ssl) != 1) DTLSv1_handle_timeout(ssl);
        continue;
      }
      for (;;) {
        const int n = SSL_read(ssl, record.data(), static_cast<int>(record.size()));
        if (n <= 0) {
          if (SSL_get_error(ssl, n) == SSL_ERROR_ZERO_RETURN) closed_ = true;
          break;
        }
        {
          std::lock_guard lock(mutex_);
          received_.emplace_back(record.begin(), record.begin() + n);
        }
        SSL_write(ssl, record.data(), n);
      }
    }
    SSL_free(ssl);
  }

  int fd_;
  SSL_CTX* ctx_ = nullptr;
  std::atomic<bool> stop_{false};
  std::atomic<bool> closed_{false};
  mutable std::mutex mutex_;
  std::vector<Bytes> received_;
  std::thread thread_;
};

std::string server_option(std::uint16_t port) { return "127.0.0.1:" + std::to_string(port); }

TEST(ModemTest, CarriesFramesBothWaysIntactAndCountsEveryByte) {
  TempDir dir;
  UdpEchoServer server;
  ModemProcess modem(dir, {"--server", server_option(server.port())});
  const std::uint16_t port = modem.port();
  ASSERT_NE(port, 0) << modem.log();
  Device device(port);
  ASSERT_TRUE(device.connected());

  std::mt19937 rng(11);
  std::uint64_t payload_bytes = 0;
  std::uint64_t slip_bytes = 0;
  constexpr int kFrames = 300;
  for (int i = 0; i < kFrames; ++i) {
    // A quarter of the bytes are END, and sizes reach a CoAP block with headers.
    const Bytes payload = random_bytes(rng, 1 + rng() % 1100);
    payload_bytes += payload.size();
    slip_bytes += device.send(payload);
    const std::optional<Bytes> echo = device.receive();
    ASSERT_TRUE(echo.has_value()) << "frame " << i << "\n" << modem.log();
    ASSERT_EQ(*echo, payload) << "frame " << i;
  }
  ASSERT_EQ(server.count(), static_cast<std::size_t>(kFrames));

  ASSERT_TRUE(modem.stats_reach("frames_down", kFrames)) << modem.log();
  EXPECT_EQ(modem.stop(), 0) << "SIGTERM is a clean stop";
  const nlohmann::json summary = modem.summary();
  ASSERT_TRUE(summary.is_object()) << modem.log();
  EXPECT_EQ(summary, modem.stats()) << "the summary and the final stats file agree";
  EXPECT_EQ(summary["sessions"], 1);
  EXPECT_EQ(summary["frames_up"], kFrames);
  EXPECT_EQ(summary["frames_down"], kFrames);
  EXPECT_EQ(summary["uart_rx_bytes"], slip_bytes);
  EXPECT_EQ(summary["uart_tx_bytes"], slip_bytes);
  EXPECT_EQ(summary["up_datagrams"], kFrames);
  EXPECT_EQ(summary["up_bytes"], payload_bytes);
  EXPECT_EQ(summary["down_datagrams"], kFrames);
  EXPECT_EQ(summary["down_bytes"], payload_bytes);
  EXPECT_EQ(summary["air_datagrams"], 2 * kFrames);
  EXPECT_EQ(summary["air_bytes"], 2 * payload_bytes);
  for (const char* zero : {"slip_errors", "up_dropped", "down_dropped", "up_corrupted",
                           "down_corrupted", "server_errors", "dtls_handshakes"})
    EXPECT_EQ(summary[zero], 0) << zero;
}

TEST(ModemTest, DropsBadFramesFromTheDeviceAndCarriesTheNextOne) {
  TempDir dir;
  UdpEchoServer server;
  ModemProcess modem(dir, {"--server", server_option(server.port())});
  Device device(modem.port());
  ASSERT_TRUE(device.connected()) << modem.log();
  const Bytes bad_escape = {agent::link::kSlipEnd, std::byte{1}, agent::link::kSlipEsc,
                            std::byte{2}, agent::link::kSlipEnd};
  device.send_raw(bad_escape);
  device.send_raw(Bytes(5000, std::byte{'x'}));  // longer than any frame the modem takes
  const Bytes good = {std::byte{'o'}, std::byte{'k'}};
  device.send(good);
  EXPECT_EQ(device.receive(), good);
  ASSERT_TRUE(modem.stats_reach("frames_down", 1));
  EXPECT_EQ(modem.stats()["slip_errors"], 2);
  EXPECT_EQ(server.received(), std::vector<Bytes>{good});
}

// Sends `count` numbered frames in small bursts and returns the numbers of the
// echoes that came back.
std::set<std::uint32_t> echo_numbers(Device& device, int count) {
  for (int i = 0; i < count; ++i) {
    device.send(numbered(static_cast<std::uint32_t>(i), 24));
    // Small bursts keep loopback's socket buffers from losing datagrams themselves,
    // even when the echo server's thread waits for a busy core.
    if (i % 10 == 9) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  std::set<std::uint32_t> numbers;
  for (const Bytes& echo : device.receive_all(1000)) numbers.insert(number_of(echo));
  return numbers;
}

std::set<std::uint32_t> numbers_of(const std::vector<Bytes>& datagrams) {
  std::set<std::uint32_t> numbers;
  for (const Bytes& d : datagrams) numbers.insert(number_of(d));
  return numbers;
}

TEST(ModemTest, LosesAboutTheGivenShareEachWayAndTheSameSeedLosesTheSameDatagrams) {
  constexpr int kDatagrams = 1000;
  std::vector<std::set<std::uint32_t>> at_server;
  std::vector<std::set<std::uint32_t>> at_device;
  for (int run = 0; run < 2; ++run) {
    TempDir dir;
    UdpEchoServer server;
    ModemProcess modem(dir,
                       {"--server", server_option(server.port()), "--loss", "20", "--seed", "42"});
    Device device(modem.port());
    ASSERT_TRUE(device.connected()) << modem.log();
    const std::set<std::uint32_t> echoed = echo_numbers(device, kDatagrams);
    const std::set<std::uint32_t> reached = numbers_of(server.received());
    // Binomial(1000, 0.2): the standard deviation is 13 datagrams; the band is 4 of them.
    const double up_loss = 1.0 - static_cast<double>(reached.size()) / kDatagrams;
    const double down_loss =
        1.0 - static_cast<double>(echoed.size()) / static_cast<double>(reached.size());
    EXPECT_NEAR(up_loss, 0.20, 0.05);
    EXPECT_NEAR(down_loss, 0.20, 0.06);
    EXPECT_TRUE(std::includes(reached.begin(), reached.end(), echoed.begin(), echoed.end()));

    ASSERT_EQ(modem.stop(), 0);
    const nlohmann::json summary = modem.summary();
    EXPECT_EQ(summary["up_datagrams"], kDatagrams);
    EXPECT_EQ(summary["up_dropped"], kDatagrams - reached.size());
    EXPECT_EQ(summary["down_datagrams"], reached.size());
    EXPECT_EQ(summary["down_dropped"], reached.size() - echoed.size());
    EXPECT_EQ(summary["frames_down"], echoed.size());
    at_server.push_back(reached);
    at_device.push_back(echoed);
  }
  EXPECT_EQ(at_server[0], at_server[1]) << "the same seed loses the same datagrams";
  EXPECT_EQ(at_device[0], at_device[1]);
}

TEST(ModemTest, CorruptionFlipsExactlyOneBitOfADatagram) {
  TempDir dir;
  UdpEchoServer server;
  ModemProcess modem(dir, {"--server", server_option(server.port()), "--corrupt", "100"});
  Device device(modem.port());
  ASSERT_TRUE(device.connected()) << modem.log();
  std::mt19937 rng(5);
  std::vector<Bytes> sent;
  std::vector<Bytes> echoes;
  for (int i = 0; i < 200; ++i) {
    sent.push_back(random_bytes(rng, 1 + rng() % 300));
    device.send(sent.back());
    const std::optional<Bytes> echo = device.receive();
    ASSERT_TRUE(echo.has_value()) << "frame " << i;
    echoes.push_back(*echo);
  }
  const std::vector<Bytes> at_server = server.received();
  ASSERT_EQ(at_server.size(), sent.size());
  for (std::size_t i = 0; i < sent.size(); ++i) {
    // One bit on the way up, another on the way down.
    ASSERT_EQ(bits_between(sent[i], at_server[i]), 1) << "datagram " << i << " up";
    ASSERT_EQ(bits_between(at_server[i], echoes[i]), 1) << "datagram " << i << " down";
  }
  ASSERT_EQ(modem.stop(), 0);
  EXPECT_EQ(modem.summary()["up_corrupted"], 200);
  EXPECT_EQ(modem.summary()["down_corrupted"], 200);
}

TEST(ModemTest, RateMakesATransferTakeAtLeastItsAirtime) {
  TempDir dir;
  UdpEchoServer server;
  constexpr int kRate = 40'000;
  ModemProcess modem(dir,
                     {"--server", server_option(server.port()), "--rate", std::to_string(kRate)});
  Device device(modem.port());
  ASSERT_TRUE(device.connected()) << modem.log();
  constexpr int kFrames = 20;
  constexpr std::size_t kSize = 500;  // 10,000 bytes: 2 s at 40 kbit/s each way
  const Clock::time_point start = Clock::now();
  for (std::uint32_t i = 0; i < kFrames; ++i) device.send(numbered(i, kSize));
  std::vector<Bytes> echoes;
  for (int i = 0; i < kFrames; ++i) {
    std::optional<Bytes> echo = device.receive(10'000);
    ASSERT_TRUE(echo.has_value()) << "frame " << i << "\n" << modem.log();
    echoes.push_back(std::move(*echo));
  }
  const double airtime = kFrames * kSize * 8.0 / kRate;
  const std::chrono::duration<double> up = server.last_arrival() - start;
  const std::chrono::duration<double> both = Clock::now() - start;
  EXPECT_GE(up.count(), airtime) << "the last datagram left after all before it";
  // Downlink: the first echo cannot start before the first datagram is up.
  EXPECT_GE(both.count(), airtime + kSize * 8.0 / kRate);
  EXPECT_EQ(numbers_of(echoes).size(), static_cast<std::size_t>(kFrames));
}

TEST(ModemTest, DelayAddsItsLatencyEachWay) {
  TempDir dir;
  UdpEchoServer server;
  ModemProcess modem(dir, {"--server", server_option(server.port()), "--delay", "150"});
  Device device(modem.port());
  ASSERT_TRUE(device.connected()) << modem.log();
  for (std::uint32_t i = 0; i < 3; ++i) {
    const Clock::time_point start = Clock::now();
    device.send(numbered(i, 16));
    ASSERT_TRUE(device.receive().has_value());
    EXPECT_GE(Clock::now() - start, std::chrono::milliseconds(300));
  }
}

TEST(ModemTest, CarriesFramesThroughADtlsPskSessionAndCountsItsRecords) {
  TempDir dir;
  DtlsEchoServer server;
  ModemProcess modem(dir, {"--server", server_option(server.port()), "--dtls-identity", kIdentity,
                           "--dtls-key", kKey});
  Device device(modem.port());
  ASSERT_TRUE(device.connected()) << modem.log();
  std::mt19937 rng(8);
  std::vector<Bytes> sent;
  std::uint64_t payload_bytes = 0;
  for (int i = 0; i < 50; ++i) {
    sent.push_back(random_bytes(rng, 1 + rng() % 1000));
    payload_bytes += sent.back().size();
    device.send(sent.back());
    const std::optional<Bytes> echo = device.receive();
    ASSERT_TRUE(echo.has_value()) << "frame " << i << "\n" << modem.log();
    ASSERT_EQ(*echo, sent.back()) << "frame " << i;
  }
  EXPECT_EQ(server.received(), sent);

  ASSERT_EQ(modem.stop(), 0) << modem.log();
  EXPECT_TRUE(eventually([&] { return server.closed_by_client(); }, 2000))
      << "a clean stop ends the session with close_notify";
  const nlohmann::json s = modem.summary();
  EXPECT_EQ(s["dtls_handshakes"], 1);
  EXPECT_EQ(s["dtls_failures"], 0);
  EXPECT_EQ(s["frames_up"], 50);
  EXPECT_EQ(s["frames_down"], 50);
  // Air bytes are whole records: 13 bytes of header each, and a nonce and tag, plus
  // the handshake's datagrams and the closing alert.
  // Up: ClientHello, then the client's second flight, and the alert; down: the
  // server's two flights. OpenSSL packs a flight into one datagram where it fits.
  EXPECT_GE(s["up_datagrams"].get<std::uint64_t>(), 50u + 3);
  EXPECT_GE(s["down_datagrams"].get<std::uint64_t>(), 50u + 2);
  EXPECT_GT(s["up_bytes"].get<std::uint64_t>(), payload_bytes + 50 * 13);
  EXPECT_GT(s["down_bytes"].get<std::uint64_t>(), payload_bytes + 50 * 13);
}

// Two free UDP ports in a row: coap-server takes P for CoAP and P + 1 for CoAPS.
std::uint16_t free_port_pair() {
  for (int attempt = 0; attempt < 50; ++attempt) {
    const int a = bound_socket(SOCK_DGRAM);
    const std::uint16_t p = port_of(a);
    const int b = bound_socket(SOCK_DGRAM, static_cast<std::uint16_t>(p + 1));
    const int c = bound_socket(SOCK_STREAM, p);
    const int d = bound_socket(SOCK_STREAM, static_cast<std::uint16_t>(p + 1));
    for (const int fd : {a, b, c, d})
      if (fd >= 0) ::close(fd);
    if (p < 65535 && b >= 0 && c >= 0 && d >= 0) return p;
  }
  return 0;
}

TEST(ModemTest, SpeaksCoapsWithLibcoapsOpenSslServer) {
  const std::string coap_server = "/usr/bin/coap-server-openssl";
  if (!fs::exists(coap_server)) GTEST_SKIP() << coap_server << " is not installed (libcoap3-bin)";
  TempDir dir;
  const std::uint16_t coap_port = free_port_pair();
  ASSERT_NE(coap_port, 0);
  ChildProcess coap({coap_server, "-A", "127.0.0.1", "-p", std::to_string(coap_port), "-k", kKey},
                    dir / "coap.log");
  const std::uint16_t coaps_port = static_cast<std::uint16_t>(coap_port + 1);
  ASSERT_TRUE(eventually([&] {
    const int fd = bound_socket(SOCK_DGRAM, coaps_port);
    if (fd >= 0) ::close(fd);
    return fd < 0;  // taken: the server listens
  })) << read_text(dir / "coap.log");

  ModemProcess modem(dir, {"--server", server_option(coaps_port), "--dtls-identity", kIdentity,
                           "--dtls-key", kKey});
  Device device(modem.port());
  ASSERT_TRUE(device.connected()) << modem.log();
  // CON GET /.well-known/core, message id 0x5A17, no token.
  Bytes get = {std::byte{0x40}, std::byte{0x01}, std::byte{0x5A}, std::byte{0x17}, std::byte{0xBB}};
  for (const char c : std::string(".well-known")) get.push_back(static_cast<std::byte>(c));
  get.push_back(std::byte{0x04});
  for (const char c : std::string("core")) get.push_back(static_cast<std::byte>(c));
  device.send(get);
  const std::optional<Bytes> answer = device.receive(10'000);
  ASSERT_TRUE(answer.has_value()) << modem.log() << read_text(dir / "coap.log");
  ASSERT_GE(answer->size(), 4u);
  EXPECT_EQ((*answer)[0] & std::byte{0xF0}, std::byte{0x60}) << "an ACK, CoAP version 1";
  EXPECT_EQ((*answer)[1], std::byte{0x45}) << "2.05 Content";
  EXPECT_EQ((*answer)[2], std::byte{0x5A});
  EXPECT_EQ((*answer)[3], std::byte{0x17});
  ASSERT_EQ(modem.stop(), 0);
  EXPECT_EQ(modem.summary()["dtls_handshakes"], 1) << modem.log();
  EXPECT_NE(modem.log().find("DTLS established, PSK-AES128-CCM8"), std::string::npos)
      << "CoAP's mandatory cipher suite (RFC 7252, 9.1.3.1)\n"
      << modem.log();
}

TEST(ModemTest, ReportsAnUnreachableServerAndCountsWhatItLost) {
  TempDir dir;
  const int closed = bound_socket(SOCK_DGRAM);  // bound, then closed: nothing listens there
  const std::uint16_t nobody = port_of(closed);
  ::close(closed);
  ModemProcess modem(dir, {"--server", server_option(nobody)});
  Device device(modem.port());
  ASSERT_TRUE(device.connected()) << modem.log();
  for (std::uint32_t i = 0; i < 3; ++i) {
    device.send(numbered(i, 8));
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_TRUE(modem.stats_reach("server_errors", 1)) << modem.log();
  EXPECT_NE(modem.log().find("unreachable"), std::string::npos) << modem.log();
  EXPECT_EQ(modem.stop(), 0);
}

TEST(ModemTest, SaysWhyItCannotListenOnTheUartPort) {
  TempDir dir;
  const int taken = bound_socket(SOCK_STREAM);
  ASSERT_EQ(::listen(taken, 1), 0);
  const std::string address = server_option(port_of(taken));
  ChildProcess modem({UPDRAFT_MODEM, "--uart-listen", address, "--server", "127.0.0.1:5683"},
                     dir / "modem.log");
  EXPECT_EQ(modem.wait(10'000), 2);
  EXPECT_NE(read_text(dir / "modem.log").find("cannot listen on " + address), std::string::npos)
      << read_text(dir / "modem.log");
  ::close(taken);
}

TEST(ModemTest, ANewDeviceConnectionStartsANewSession) {
  TempDir dir;
  UdpEchoServer server;
  ModemProcess modem(dir, {"--server", server_option(server.port())});
  const std::uint16_t port = modem.port();
  const Bytes hello = {std::byte{'h'}};
  {
    Device first(port);
    first.send(hello);
    EXPECT_EQ(first.receive(), hello);
  }
  Device second(port);
  second.send(hello);
  EXPECT_EQ(second.receive(), hello);
  ASSERT_TRUE(modem.stats_reach("sessions", 2)) << modem.log();
  EXPECT_EQ(modem.stop(), 0);
}

TEST(ModemTest, StopsByItselfAfterExitAfter) {
  TempDir dir;
  ChildProcess modem({UPDRAFT_MODEM, "--server", "127.0.0.1:5683", "--exit-after", "0.3", "--stats",
                      dir / "stats.json"},
                     dir / "modem.log");
  EXPECT_EQ(modem.wait(10'000), 0) << read_text(dir / "modem.log");
  EXPECT_TRUE(nlohmann::json::parse(read_text(dir / "stats.json"), nullptr, false).is_object());
}

}  // namespace
}  // namespace updraft::sim
