#include "sim/modem/modem.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>

namespace updraft::sim {

namespace {

// The longest frame taken from the device: a CoAP block of 1024 bytes with its
// header and options fits with room to spare.
constexpr std::size_t kMaxFrame = 2048;
// SLIP bytes waiting for a device that does not read, before frames are dropped.
constexpr std::size_t kMaxToDevice = 1 << 20;
constexpr auto kStatsEvery = std::chrono::seconds(1);

void log(const std::string& line) { std::fprintf(stderr, "updraft-modem: %s\n", line.c_str()); }

std::string errno_text(int error) { return std::strerror(error); }

struct AddrInfoDeleter {
  void operator()(addrinfo* list) const { ::freeaddrinfo(list); }
};
using AddrInfo = std::unique_ptr<addrinfo, AddrInfoDeleter>;

// "host:port" or "[v6]:port", resolved for `type` (SOCK_STREAM or SOCK_DGRAM).
HostResult<AddrInfo> resolve(const std::string& text, const char* option, int type) {
  const std::size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size() ||
      text.find_first_not_of("0123456789", colon + 1) != std::string::npos) {
    return Error(ErrorCode::kInvalidArgument,
                 std::string(option) + " '" + text + "': expected host:port");
  }
  std::string host = text.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  addrinfo hints{};
  hints.ai_socktype = type;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* list = nullptr;
  const int rc = ::getaddrinfo(host.c_str(), text.c_str() + colon + 1, &hints, &list);
  if (rc != 0) {
    return Error(ErrorCode::kIoError,
                 std::string(option) + " '" + text + "': cannot resolve: " + ::gai_strerror(rc));
  }
  return AddrInfo(list);
}

// Writes `text` to `path` whole: aside first, then renamed over it, so a reader
// never sees half of it.
bool write_whole(const std::string& path, const std::string& text) {
  const std::string aside = path + ".tmp";
  {
    std::ofstream out(aside, std::ios::trunc);
    out << text;
    if (!out.flush()) return false;
  }
  return std::rename(aside.c_str(), path.c_str()) == 0;
}

}  // namespace

Modem::Modem(const ModemOptions& options)
    : options_(options),
      up_(options.impairments, options.seed),
      // Another stream for the other direction, so each is repeatable by itself.
      down_(options.impairments, options.seed ^ 0x9E3779B97F4A7C15ULL),
      frame_buffer_(kMaxFrame),
      decoder_(frame_buffer_) {}

Modem::~Modem() {
  end_session("the modem stops");
  if (listen_fd_ >= 0) ::close(listen_fd_);
}

HostResult<std::unique_ptr<Modem>> Modem::open(const ModemOptions& options) {
  std::unique_ptr<Modem> modem(new Modem(options));

  UPDRAFT_TRY_ASSIGN(const AddrInfo server, resolve(options.server, "--server", SOCK_DGRAM));
  std::memcpy(&modem->server_address_, server->ai_addr, server->ai_addrlen);
  modem->server_address_length_ = server->ai_addrlen;

  UPDRAFT_TRY_ASSIGN(const AddrInfo uart,
                     resolve(options.uart_listen, "--uart-listen", SOCK_STREAM));
  int error = 0;
  for (const addrinfo* a = uart.get(); a != nullptr && modem->listen_fd_ < 0; a = a->ai_next) {
    const int fd = ::socket(a->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    const int on = 1;
    if (fd >= 0 && ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) == 0 &&
        ::bind(fd, a->ai_addr, a->ai_addrlen) == 0 && ::listen(fd, 4) == 0) {
      modem->listen_fd_ = fd;
    } else {
      error = errno;
      if (fd >= 0) ::close(fd);
    }
  }
  if (modem->listen_fd_ < 0) {
    return Error(ErrorCode::kIoError,
                 "cannot listen on " + options.uart_listen + ": " + errno_text(error));
  }
  sockaddr_storage bound{};
  socklen_t length = sizeof bound;
  ::getsockname(modem->listen_fd_, reinterpret_cast<sockaddr*>(&bound), &length);
  modem->uart_port_ =
      ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<const sockaddr_in6&>(bound).sin6_port
                                        : reinterpret_cast<const sockaddr_in&>(bound).sin_port);
  if (!options.uart_port_file.empty() &&
      !write_whole(options.uart_port_file, std::to_string(modem->uart_port_) + "\n")) {
    return Error(ErrorCode::kIoError, "cannot write --uart-port-file " + options.uart_port_file);
  }

  if (options.dtls) {
    UPDRAFT_TRY_ASSIGN(modem->dtls_context_, DtlsContext::create(*options.dtls));
  }
  return modem;
}

HostResult<void> Modem::run(const volatile std::sig_atomic_t& stop, const sigset_t& wait_mask,
                            Clock::time_point deadline) {
  Clock::time_point next_stats = Clock::now();
  while (stop == 0) {
    Clock::time_point now = Clock::now();
    if (now >= deadline) break;
    deliver_arrivals(now);
    if (dtls_ && now >= dtls_->timer()) {
      const HostResult<void> retried = dtls_->on_timer();
      if (!retried.ok()) dtls_failed(retried.error());
    }
    if (now >= next_stats) {
      write_stats();
      next_stats = now + kStatsEvery;
    }

    Clock::time_point wake =
        std::min({next_stats, deadline, up_.next_arrival(), down_.next_arrival()});
    if (dtls_) wake = std::min(wake, dtls_->timer());
    const auto wait = std::max(Clock::duration::zero(), wake - now);
    const auto wait_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(wait).count();
    const timespec timeout{static_cast<time_t>(wait_ns / 1'000'000'000),
                           static_cast<long>(wait_ns % 1'000'000'000)};

    std::array<pollfd, 3> fds{};
    fds[0] = {listen_fd_, POLLIN, 0};
    fds[1] = {device_fd_, static_cast<short>(POLLIN | (to_device_.empty() ? 0 : POLLOUT)), 0};
    fds[2] = {server_fd_, POLLIN, 0};  // poll ignores negative descriptors
    if (::ppoll(fds.data(), fds.size(), &timeout, &wait_mask) < 0) {
      if (errno == EINTR) continue;
      return Error(ErrorCode::kIoError, "poll: " + errno_text(errno));
    }
    now = Clock::now();
    if (fds[0].revents & POLLIN) accept_device();
    // Each step may end the session, so each checks that its descriptor is still
    // the session's.
    if (fds[1].fd == device_fd_ && (fds[1].revents & POLLOUT)) write_device();
    if (fds[1].fd == device_fd_ && (fds[1].revents & (POLLIN | POLLHUP | POLLERR)))
      read_device(now);
    if (fds[2].fd == server_fd_ && fds[2].revents != 0) read_server(now);
  }
  end_session("the modem stops");
  stopped_ = Clock::now();  // so the summary printed later matches the file
  write_stats();
  return {};
}

void Modem::accept_device() {
  const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
  if (fd < 0) {
    if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
      log("accept on the UART port: " + errno_text(errno));
    return;
  }
  end_session("a new device connection replaces it");
  device_fd_ = fd;
  ++counters_.sessions;
  // Frames are small and a device waits for each answer, so send them at once.
  const int on = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
  server_fd_ = ::socket(server_address_.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (server_fd_ < 0 || ::connect(server_fd_, reinterpret_cast<const sockaddr*>(&server_address_),
                                  server_address_length_) != 0) {
    log("session " + std::to_string(counters_.sessions) + ": no route to " + options_.server +
        ": " + errno_text(errno) + "; the device's datagrams are lost");
    if (server_fd_ >= 0) ::close(server_fd_);
    server_fd_ = -1;
  }
  log("session " + std::to_string(counters_.sessions) + ": device connected");
}

void Modem::read_device(Clock::time_point now) {
  std::array<std::byte, 4096> chunk;
  const ssize_t n = ::recv(device_fd_, chunk.data(), chunk.size(), 0);
  if (n == 0) return end_session("the device hung up");
  if (n < 0) {
    if (errno == EAGAIN || errno == EINTR) return;
    return end_session("UART connection: " + errno_text(errno));
  }
  counters_.uart_rx_bytes += static_cast<std::uint64_t>(n);
  ByteView input(chunk.data(), static_cast<std::size_t>(n));
  while (!input.empty()) {
    const Result<ByteView> frame = decoder_.next(input);
    if (!frame.ok()) {
      ++counters_.slip_errors;
      continue;
    }
    if (frame->empty()) break;
    frame_from_device(*frame, now);
  }
}

void Modem::frame_from_device(ByteView frame, Clock::time_point now) {
  ++counters_.frames_up;
  if (!dtls_context_) return up_.send(frame, now);
  if (!dtls_) {
    dtls_ = std::make_unique<DtlsSession>(
        *dtls_context_, [this](ByteView record) { up_.send(record, Clock::now()); });
  }
  const HostResult<void> sent = dtls_->send(frame);
  if (!sent.ok()) dtls_failed(sent.error());
}

void Modem::deliver_arrivals(Clock::time_point now) {
  AirChannel::Datagram datagram;
  while (up_.receive(now, datagram)) datagram_to_server(datagram);
  while (down_.receive(now, datagram)) {
    if (!dtls_context_) {
      frame_to_device(datagram);
      continue;
    }
    if (!dtls_) continue;  // a late record for a session that has ended
    const bool was_established = dtls_->established();
    std::vector<std::vector<std::byte>> plaintext;
    const HostResult<void> received = dtls_->receive(datagram, plaintext);
    for (const std::vector<std::byte>& p : plaintext) frame_to_device(p);
    if (!received.ok()) {
      dtls_failed(received.error());
    } else if (!was_established && dtls_->established()) {
      ++counters_.dtls_handshakes;
      log("session " + std::to_string(counters_.sessions) + ": DTLS established, " +
          dtls_->cipher());
    }
  }
}

void Modem::datagram_to_server(ByteView datagram) {
  if (server_fd_ < 0) {
    ++counters_.server_errors;
    return;
  }
  if (::send(server_fd_, datagram.data(), datagram.size(), 0) < 0) socket_error(errno, "send");
}

void Modem::read_server(Clock::time_point now) {
  std::array<std::byte, 65536> datagram;
  for (;;) {
    const ssize_t n = ::recv(server_fd_, datagram.data(), datagram.size(), 0);
    if (n >= 0) {
      down_.send(ByteView(datagram.data(), static_cast<std::size_t>(n)), now);
      continue;
    }
    const int error = errno;
    if (error == EAGAIN || error == EINTR) return;
    socket_error(error, "receive");
    if (error != ECONNREFUSED) return;  // an ICMP error is reported once; read on
  }
}

void Modem::socket_error(int error, const char* what) {
  ++counters_.server_errors;
  if (server_error_logged_) return;  // once a session: a dead server would flood the log
  server_error_logged_ = true;
  if (error == ECONNREFUSED) {
    log("server " + options_.server + " unreachable (nothing listens there); datagrams are lost");
  } else {
    log(std::string(what) + " to server " + options_.server + ": " + errno_text(error));
  }
}

void Modem::frame_to_device(ByteView frame) {
  if (device_fd_ < 0) return;
  if (to_device_.size() + agent::link::slip_max_encoded_size(frame.size()) > kMaxToDevice) {
    ++counters_.uart_overflows;
    return;
  }
  ++counters_.frames_down;
  agent::link::slip_encode_to(
      frame, [&](ByteView run) { to_device_.insert(to_device_.end(), run.begin(), run.end()); });
  write_device();
}

void Modem::write_device() {
  while (!to_device_.empty()) {
    const ssize_t n = ::send(device_fd_, to_device_.data(), to_device_.size(), MSG_NOSIGNAL);
    if (n < 0) {
      // A broken connection is ended by read_device(), which sees it too; ending
      // it here would pull the session from under a caller that is using it.
      if (errno != EAGAIN && errno != EINTR) to_device_.clear();
      return;
    }
    counters_.uart_tx_bytes += static_cast<std::uint64_t>(n);
    to_device_.erase(to_device_.begin(), to_device_.begin() + n);
  }
}

void Modem::dtls_failed(const Error& error) {
  ++counters_.dtls_failures;
  log("session " + std::to_string(counters_.sessions) + ": " + error.message +
      "; the next frame starts a new handshake");
  dtls_.reset();
}

void Modem::end_session(const std::string& why) {
  if (device_fd_ < 0) return;
  log("session " + std::to_string(counters_.sessions) + " ends: " + why);
  if (dtls_) {
    dtls_->close();
    dtls_.reset();
  }
  // What the device sent before it went (and the close_notify) still goes out,
  // at once; what was coming to it has nowhere to go.
  for (const AirChannel::Datagram& datagram : up_.take_all()) datagram_to_server(datagram);
  down_.take_all();
  ::close(device_fd_);
  device_fd_ = -1;
  if (server_fd_ >= 0) ::close(server_fd_);
  server_fd_ = -1;
  decoder_.reset();
  to_device_.clear();
  server_error_logged_ = false;
}

std::string Modem::stats_json() const {
  const auto uptime = std::chrono::duration_cast<std::chrono::milliseconds>(
      stopped_.value_or(Clock::now()) - started_);
  const AirCounters& up = up_.counters();
  const AirCounters& down = down_.counters();
  nlohmann::ordered_json j;
  j["uptime_ms"] = uptime.count();
  j["sessions"] = counters_.sessions;
  j["uart_rx_bytes"] = counters_.uart_rx_bytes;
  j["uart_tx_bytes"] = counters_.uart_tx_bytes;
  j["frames_up"] = counters_.frames_up;
  j["frames_down"] = counters_.frames_down;
  j["slip_errors"] = counters_.slip_errors;
  j["uart_overflows"] = counters_.uart_overflows;
  j["up_datagrams"] = up.datagrams;
  j["up_bytes"] = up.bytes;
  j["up_dropped"] = up.dropped;
  j["up_corrupted"] = up.corrupted;
  j["up_overflows"] = up.overflows;
  j["down_datagrams"] = down.datagrams;
  j["down_bytes"] = down.bytes;
  j["down_dropped"] = down.dropped;
  j["down_corrupted"] = down.corrupted;
  j["down_overflows"] = down.overflows;
  j["air_datagrams"] = up.datagrams + down.datagrams;
  j["air_bytes"] = up.bytes + down.bytes;
  j["server_errors"] = counters_.server_errors;
  j["dtls_handshakes"] = counters_.dtls_handshakes;
  j["dtls_failures"] = counters_.dtls_failures;
  return j.dump();
}

void Modem::write_stats() const {
  if (options_.stats_file.empty()) return;
  if (write_whole(options_.stats_file, stats_json() + "\n")) return;
  if (!stats_error_logged_) log("cannot write --stats " + options_.stats_file);
  stats_error_logged_ = true;
}

}  // namespace updraft::sim
