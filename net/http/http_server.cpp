#include "net/http/http_server.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <exception>
#include <filesystem>
#include <limits>
#include <list>
#include <mutex>
#include <optional>
#include <thread>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/host/hex.h"
#include "net/http/ranges.h"

// Boost 1.74's awaitable.hpp uses std::exchange and relies on <utility> above.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/basic_parser.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

namespace updraft::net::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using boost::system::error_code;

// Bounds the discard read after an error answer, so a client still sending a body
// it will never get to finish sees our answer instead of a reset.
constexpr std::size_t kLingerBytes = 1024 * 1024;
constexpr auto kLingerTime = std::chrono::seconds(2);
// A stream whose client reads slower than the handler sends is dropped past this.
constexpr std::size_t kMaxQueuedEventBytes = 8 * 1024 * 1024;
constexpr std::size_t kFileChunkBytes = 64 * 1024;  // TLS file bodies go through this buffer
constexpr std::size_t kFirstReadBytes = 16 * 1024;  // the read that waits for a request

// Concrete executor types throughout: the type-erased any_io_executor costs a
// measurable share of a small request's CPU time.
using Executor = asio::io_context::executor_type;
template <class T>
using Task = asio::awaitable<T, Executor>;
using Socket = asio::basic_stream_socket<tcp, Executor>;
using Acceptor = asio::basic_socket_acceptor<tcp, Executor>;
using Timer = asio::basic_waitable_timer<std::chrono::steady_clock,
                                         asio::wait_traits<std::chrono::steady_clock>, Executor>;
using PlainStream = beast::basic_stream<tcp, Executor, beast::unlimited_rate_policy>;
using TlsStream = beast::ssl_stream<PlainStream>;

auto redirect(error_code& ec) {
  return asio::redirect_error(asio::use_awaitable_t<Executor>(), ec);
}

void append_number(std::string& out, std::uint64_t value) {
  char digits[24];
  const auto result = std::to_chars(digits, digits + sizeof digits, value);
  out.append(digits, result.ptr);
}

std::string_view reason_phrase(int status) {
  const beast::string_view reason =
      bhttp::obsolete_reason(bhttp::int_to_status(static_cast<unsigned>(status)));
  if (bhttp::int_to_status(static_cast<unsigned>(status)) == bhttp::status::unknown) {
    return "Unknown";
  }
  return {reason.data(), reason.size()};
}

// Header names and values from handlers go on the wire as written; one carrying a
// line break would let a client-controlled value inject headers, so it is dropped.
bool safe_field(std::string_view name, std::string_view value) {
  if (name.empty()) return false;
  for (char c : name) {
    if (c == ':' || c == '\r' || c == '\n' || c == ' ') return false;
  }
  return value.find_first_of("\r\n") == std::string_view::npos;
}

// The headers the server writes itself; a handler's copy of them is ignored.
bool server_owned(std::string_view name) {
  return name == "content-length" || name == "connection" || name == "transfer-encoding";
}

// RFC 9110's IMF-fixdate, e.g. "Tue, 24 Nov 2026 13:00:00 GMT"; formatted at most
// once a second per thread, and without strftime, whose names follow the locale.
std::string_view http_date() {
  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  thread_local std::time_t formatted_second = -1;
  thread_local std::array<char, 40> text{};
  thread_local std::size_t length = 0;
  const std::time_t now = std::time(nullptr);
  if (now != formatted_second) {
    formatted_second = now;
    std::tm utc{};
    gmtime_r(&now, &utc);
    const int written =
        std::snprintf(text.data(), text.size(), "%s, %02d %s %04d %02d:%02d:%02d GMT",
                      kDays[utc.tm_wday % 7], utc.tm_mday, kMonths[utc.tm_mon % 12],
                      utc.tm_year + 1900, utc.tm_hour, utc.tm_min, utc.tm_sec);
    length = written > 0 ? static_cast<std::size_t>(written) : 0;
  }
  return {text.data(), length};
}

void begin_head(std::string& out, int status) {
  out.assign("HTTP/1.1 ");
  append_number(out, static_cast<std::uint64_t>(status));
  out += ' ';
  out += reason_phrase(status);
  out += "\r\ndate: ";
  out += http_date();
  out += "\r\n";
}

void add_field(std::string& out, std::string_view name, std::string_view value) {
  out += name;
  out += ": ";
  out += value;
  out += "\r\n";
}

void add_handler_fields(std::string& out, const Headers& headers,
                        std::string_view skip = std::string_view()) {
  for (const auto& [name, value] : headers) {
    if (server_owned(name) || name == skip || !safe_field(name, value)) continue;
    add_field(out, name, value);
  }
}

bool body_allowed(int status) { return status >= 200 && status != 204 && status != 304; }

struct FileCloser {
  int fd = -1;
  ~FileCloser() {
    if (fd >= 0) ::close(fd);
  }
};

// "event: <type>\ndata: <line>\n...\n": each line of `data` becomes a data field,
// since a bare line break would end the event early.
std::string format_event(std::string_view type, std::string_view data) {
  std::string frame;
  frame.reserve(type.size() + data.size() + 16);
  if (!type.empty()) {
    frame += "event: ";
    for (char c : type) {
      if (c != '\r' && c != '\n') frame += c;
    }
    frame += '\n';
  }
  for (;;) {
    const std::size_t end = data.find_first_of("\r\n");
    frame += "data: ";
    frame += data.substr(0, end);
    frame += '\n';
    if (end == std::string_view::npos) break;
    const std::size_t next = data.compare(end, 2, "\r\n") == 0 ? end + 2 : end + 1;
    data.remove_prefix(next);
  }
  frame += '\n';
  return frame;
}

// Each connection may hold two descriptors (its socket, and a file it serves or a
// body it stores); 64 stay for the rest of the process (store, logs, listeners).
std::size_t connection_cap_from_fd_limit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) return 1u << 16;
  const auto descriptors = static_cast<std::size_t>(limit.rlim_cur);
  return descriptors > 96 ? (descriptors - 64) / 2 : 16;
}

// A request body on its way to disk (Admission::body_to_file), hashed with SHA-256
// as it is written. The file is deleted by discard() (or the destructor) unless
// the handler has moved it away by then.
class BodyFileWriter {
 public:
  BodyFileWriter() = default;
  ~BodyFileWriter() { discard(); }
  BodyFileWriter(const BodyFileWriter&) = delete;
  BodyFileWriter& operator=(const BodyFileWriter&) = delete;

  // A fresh file in `dir`; false with error() set.
  bool open(const std::string& dir, std::atomic<std::uint64_t>& serial) {
    discard();
    for (int attempt = 0; attempt < 16 && fd_ < 0; ++attempt) {
      path_ = dir + "/body-" + std::to_string(::getpid()) + "-" + std::to_string(serial++);
      fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
      if (fd_ < 0 && errno != EEXIST) break;
    }
    if (fd_ < 0) {
      error_ = errno;
      path_.clear();
      return false;
    }
    digest_ = EVP_MD_CTX_new();
    if (digest_ == nullptr || EVP_DigestInit_ex(digest_, EVP_sha256(), nullptr) != 1) {
      error_ = ENOMEM;
      return false;
    }
    return true;
  }

  bool write(std::string_view data) {
    if (EVP_DigestUpdate(digest_, data.data(), data.size()) != 1) {
      error_ = ENOMEM;
      return false;
    }
    while (!data.empty()) {
      const ssize_t written = ::write(fd_, data.data(), data.size());
      if (written < 0 && errno == EINTR) continue;
      if (written <= 0) {
        error_ = written < 0 ? errno : EIO;
        return false;
      }
      data.remove_prefix(static_cast<std::size_t>(written));
      size_ += static_cast<std::uint64_t>(written);
    }
    return true;
  }

  // Closes the file (the path stays until discard()); nullopt with error() set.
  std::optional<BodyFile> finish() {
    std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
    unsigned int digest_size = 0;
    if (EVP_DigestFinal_ex(digest_, digest.data(), &digest_size) != 1) error_ = ENOMEM;
    // Delayed allocation may report a full disk only now.
    if (::close(fd_) != 0 && error_ == 0) error_ = errno;
    fd_ = -1;
    if (error_ != 0) return std::nullopt;
    return BodyFile{
        path_, size_,
        to_hex(ByteView(reinterpret_cast<const std::byte*>(digest.data()), digest_size))};
  }

  void discard() {
    if (fd_ >= 0) ::close(fd_);
    if (!path_.empty()) ::unlink(path_.c_str());
    if (digest_ != nullptr) EVP_MD_CTX_free(digest_);
    fd_ = -1;
    path_.clear();
    digest_ = nullptr;
    size_ = 0;
    error_ = 0;
  }

  bool active() const { return !path_.empty(); }
  int error() const { return error_; }

 private:
  std::string path_;
  int fd_ = -1;
  EVP_MD_CTX* digest_ = nullptr;
  std::uint64_t size_ = 0;
  int error_ = 0;
};

class ConnectionBase {
 public:
  virtual ~ConnectionBase() = default;
  // All three run on the connection's own thread.
  virtual void on_stop(bool force) = 0;
  // Picked to make room for a new connection: closes if it still waits for a
  // request, else keeps serving (ServerState::reprieve).
  virtual void on_evict() = 0;
  virtual void wake_events() = 0;
  virtual Executor executor() = 0;
};

// The EventSink handed to handlers. send() may run on any thread: it appends to a
// queue under the mutex and posts one wake-up to the connection's thread, which
// does the writing.
class EventChannel final : public EventSink {
 public:
  EventChannel(Executor executor, std::weak_ptr<ConnectionBase> connection)
      : executor_(std::move(executor)), connection_(std::move(connection)) {}

  bool send(std::string_view type, std::string_view data) override {
    std::string frame = format_event(type, data);
    std::lock_guard lock(mutex_);
    if (closed_) return false;
    if (queued_.size() + frame.size() > kMaxQueuedEventBytes) {
      closed_ = true;
      queued_.clear();
    } else {
      queued_ += frame;
    }
    if (!wake_posted_) {
      wake_posted_ = true;
      // Posting under the mutex: close() takes it before the connection dies, so a
      // post never reaches an executor whose server is gone.
      asio::post(executor_, [connection = connection_] {
        if (auto alive = connection.lock()) alive->wake_events();
      });
    }
    return !closed_;
  }

  bool closed() const override {
    std::lock_guard lock(mutex_);
    return closed_;
  }

  // On the connection's thread: moves the queued bytes into `out`; false if none.
  bool take(std::string& out) {
    out.clear();
    std::lock_guard lock(mutex_);
    wake_posted_ = false;
    out.swap(queued_);
    return !out.empty();
  }

  void close() {
    std::lock_guard lock(mutex_);
    closed_ = true;
    queued_.clear();
  }

 private:
  const Executor executor_;
  const std::weak_ptr<ConnectionBase> connection_;
  mutable std::mutex mutex_;
  std::string queued_;
  bool wake_posted_ = false;
  bool closed_ = false;
};

// Server-wide state the connections share. Outlives every connection.
struct ServerState {
  HttpServerOptions options;  // max_connections and body_file_dir resolved by start()
  Handler handler;
  Admit admit;
  std::atomic<bool> stopping{false};
  std::atomic<std::uint64_t> body_files{0};  // numbers the files bodies stream to

  // Every open connection, and for the caps: the client address it came from,
  // whether it waits for a request (only those are closed to make room, oldest
  // first) and whether it was picked to be closed already.
  struct Peer {
    std::size_t open = 0;
    std::size_t leaving = 0;
    std::list<ConnectionBase*> waiting;  // oldest first
  };
  struct Tracked {
    std::weak_ptr<ConnectionBase> ref;
    Peer* peer = nullptr;  // unordered_map nodes stay put
    std::string address;
    bool waiting = false;
    bool leaving = false;
    std::list<ConnectionBase*>::iterator in_waiting, in_peer_waiting;
  };

  mutable std::mutex mutex;
  std::condition_variable all_closed;
  std::unordered_map<ConnectionBase*, Tracked> connections;
  std::unordered_map<std::string, Peer> peers;
  std::list<ConnectionBase*> waiting;  // every address's, oldest first
  std::size_t leaving = 0;

  void log(std::string_view message) const {
    if (options.log) {
      options.log(message);
    } else {
      std::fprintf(stderr, "updraftd http: %.*s\n", static_cast<int>(message.size()),
                   message.data());
    }
  }

  // The last-resort catch docs/style.md asks of every connection handler.
  Response dispatch(Request& request) noexcept {
    try {
      parse_target(request);
      return handler(request);
    } catch (const std::exception& e) {
      log(std::string("handler failed on ") + std::string(method_name(request.method)) + " " +
          request.target + ": " + e.what());
    } catch (...) {
      log("handler failed on " + request.target + ": unknown exception");
    }
    return Response::error(500, ErrorCode::kInternal, "internal error");
  }

  // The admission check on a header whose body is not read yet; a check that
  // throws refuses with 500.
  Admission admission(Request& request) noexcept {
    try {
      parse_target(request);
      if (!admit) return {};
      return admit(request);
    } catch (const std::exception& e) {
      log(std::string("admission failed on ") + request.target + ": " + e.what());
    } catch (...) {
      log("admission failed on " + request.target + ": unknown exception");
    }
    Admission refused;
    refused.refusal = Response::error(500, ErrorCode::kInternal, "internal error");
    return refused;
  }

  // Makes room for one more connection from `address` under the caps: picks the
  // connection to close, if one must go (the caller posts on_evict to it). False
  // when the new connection must be refused: its address, or the server, is full
  // of connections that are all busy.
  bool make_room(const std::string& address, std::vector<std::shared_ptr<ConnectionBase>>& evict) {
    std::lock_guard lock(mutex);
    ConnectionBase* victim = nullptr;
    {
      const auto peer = peers.find(address);
      if (peer != peers.end() &&
          peer->second.open - peer->second.leaving >= options.max_connections_per_ip) {
        if (peer->second.waiting.empty()) return false;
        victim = peer->second.waiting.front();  // room within its own share
      }
    }
    if (victim == nullptr && connections.size() - leaving >= options.max_connections) {
      if (waiting.empty()) return false;
      victim = waiting.front();
    }
    if (victim == nullptr) return true;
    Tracked& tracked = connections.at(victim);
    set_waiting_locked(victim, tracked, false);
    tracked.leaving = true;
    ++tracked.peer->leaving;
    ++leaving;
    if (auto alive = tracked.ref.lock()) evict.push_back(std::move(alive));
    return true;
  }

  // A connection picked to make room that had a request by then stays.
  void reprieve(ConnectionBase* connection) {
    std::lock_guard lock(mutex);
    const auto it = connections.find(connection);
    if (it == connections.end() || !it->second.leaving) return;
    it->second.leaving = false;
    --it->second.peer->leaving;
    --leaving;
  }

  // Waiting for a request (the header not complete yet), or busy with one.
  void set_waiting(ConnectionBase* connection, bool value) {
    std::lock_guard lock(mutex);
    const auto it = connections.find(connection);
    if (it == connections.end() || it->second.leaving) return;
    set_waiting_locked(connection, it->second, value);
  }

  void set_waiting_locked(ConnectionBase* connection, Tracked& tracked, bool value) {
    if (tracked.waiting == value) return;
    tracked.waiting = value;
    if (value) {
      tracked.in_waiting = waiting.insert(waiting.end(), connection);
      tracked.in_peer_waiting =
          tracked.peer->waiting.insert(tracked.peer->waiting.end(), connection);
    } else {
      waiting.erase(tracked.in_waiting);
      tracked.peer->waiting.erase(tracked.in_peer_waiting);
    }
  }

  // A new connection waits for its first request.
  void add(const std::shared_ptr<ConnectionBase>& connection, const std::string& address) {
    std::lock_guard lock(mutex);
    Tracked& tracked = connections[connection.get()];
    tracked.ref = connection;
    tracked.address = address;
    tracked.peer = &peers[address];
    ++tracked.peer->open;
    set_waiting_locked(connection.get(), tracked, true);
  }

  void remove(ConnectionBase* connection) {
    std::lock_guard lock(mutex);
    const auto it = connections.find(connection);
    if (it == connections.end()) return;
    Tracked& tracked = it->second;
    set_waiting_locked(connection, tracked, false);
    if (tracked.leaving) {
      --tracked.peer->leaving;
      --leaving;
    }
    if (--tracked.peer->open == 0) peers.erase(tracked.address);
    connections.erase(it);
    if (connections.empty()) all_closed.notify_all();
  }
};

// Parses straight into our Request, skipping Beast's own header container.
class RequestParser final : public bhttp::basic_parser<true> {
 public:
  explicit RequestParser(Request& request) : request_(request) {}

  int version() const { return version_; }
  bool expects_continue() const { return expects_continue_; }
  // From now on the body goes to `file`, not to request.body.
  void write_to(BodyFileWriter* file) { file_ = file; }

 private:
  void on_request_impl(bhttp::verb, beast::string_view method, beast::string_view target,
                       int version, error_code&) override {
    request_.method = http::parse_method({method.data(), method.size()});
    request_.target.assign(target.data(), target.size());
    version_ = version;
  }

  void on_response_impl(int, beast::string_view, int, error_code&) override {}

  void on_field_impl(bhttp::field name, beast::string_view name_text, beast::string_view value,
                     error_code&) override {
    std::string key(name_text.data(), name_text.size());
    for (char& c : key) {
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    // Repeated fields combine into one comma-separated list (RFC 9110 5.3).
    auto [it, inserted] = request_.headers.try_emplace(std::move(key), value.data(), value.size());
    if (!inserted) {
      it->second += ", ";
      it->second.append(value.data(), value.size());
    }
    if (name == bhttp::field::expect && beast::iequals(value, "100-continue")) {
      expects_continue_ = true;
    }
  }

  void on_header_impl(error_code&) override {}

  void on_body_init_impl(const boost::optional<std::uint64_t>& length, error_code&) override {
    // The length is within the route's body limit by now (Connection::read_request).
    if (length && file_ == nullptr) request_.body.reserve(static_cast<std::size_t>(*length));
  }

  std::size_t on_body_impl(beast::string_view body, error_code& ec) override {
    return take(body, ec);
  }

  void on_chunk_header_impl(std::uint64_t, beast::string_view, error_code&) override {}

  std::size_t on_chunk_body_impl(std::uint64_t, beast::string_view body, error_code& ec) override {
    return take(body, ec);
  }

  void on_finish_impl(error_code&) override {}

  std::size_t take(beast::string_view body, error_code& ec) {
    if (file_ == nullptr) {
      request_.body.append(body.data(), body.size());
    } else if (!file_->write({body.data(), body.size()})) {
      ec = boost::system::errc::make_error_code(
          boost::system::errc::io_error);  // the reason is in file_->error()
      return 0;
    }
    return body.size();
  }

  Request& request_;
  BodyFileWriter* file_ = nullptr;
  int version_ = 11;
  bool expects_continue_ = false;
};

template <class Stream>
class Connection final : public ConnectionBase,
                         public std::enable_shared_from_this<Connection<Stream>> {
 public:
  static constexpr bool kTls = std::is_same_v<Stream, TlsStream>;

  template <class... StreamArgs>
  Connection(ServerState& state, std::string remote_address, StreamArgs&&... stream_args)
      : state_(state),
        stream_(std::forward<StreamArgs>(stream_args)...),
        accepted_at_(std::chrono::steady_clock::now()) {
    request_.remote_address = std::move(remote_address);
  }

  ~Connection() override {
    if (channel_) channel_->close();
    state_.remove(this);
  }

  Task<void> run(std::shared_ptr<Connection> self) {
    (void)self;  // keeps the connection alive while the coroutine runs
    try {
      co_await serve();
    } catch (const std::exception& e) {
      state_.log(std::string("connection from ") + request_.remote_address +
                 " failed: " + e.what());
    }
    body_file_.discard();
    error_code ec;
    tcp().socket().shutdown(tcp::socket::shutdown_both, ec);
    tcp().close();
  }

  void on_stop(bool force) override {
    const bool idle = phase_ == Phase::kIdle && buffer_.size() == 0;
    if (force || idle || phase_ == Phase::kStream) close_now();
  }

  void on_evict() override {
    if (phase_ == Phase::kIdle) {
      close_now();
    } else {
      state_.reprieve(this);
    }
  }

  void wake_events() override {
    if (event_timer_) event_timer_->cancel();
  }

  Executor executor() override { return tcp().get_executor(); }

 private:
  enum class Phase { kIdle, kBusy, kStream };
  enum class ReadOutcome {
    kRequest,
    kClosed,
    kMalformed,
    kRefused,  // by the route's admission check
    kBodyTooLarge,
    kHeaderTooLarge,
    kTimedOut,
    kBodyNotStored,  // the body file could not be written
  };

  PlainStream& tcp() { return beast::get_lowest_layer(stream_); }

  void close_now() {
    if (channel_) channel_->close();
    if (event_timer_) event_timer_->cancel();
    tcp().close();
  }

  Task<void> serve() {
    error_code ec;
    // The direct sendmsg/sendfile calls below must never block the event loop.
    tcp().socket().native_non_blocking(true, ec);
    if (ec) co_return;
    if constexpr (kTls) {
      tcp().expires_after(state_.options.header_timeout);
      co_await stream_.async_handshake(asio::ssl::stream_base::server, redirect(ec));
      if (ec) co_return;
    }
    bool first = true;
    while (!state_.stopping.load(std::memory_order_relaxed)) {
      const ReadOutcome outcome = co_await read_request(first);
      first = false;
      if (outcome == ReadOutcome::kClosed) co_return;
      if (outcome != ReadOutcome::kRequest) {
        co_await refuse(outcome);
        co_return;
      }
      head_only_ = request_.method == Method::kHead;
      const bool keep_alive = parser_->keep_alive();
      Response response = state_.dispatch(request_);
      const bool reusable = keep_alive && !state_.stopping.load(std::memory_order_relaxed);
      const bool written = co_await respond(response, reusable);
      body_file_.discard();  // unless the handler moved it away
      if (!written || !reusable) co_return;
    }
  }

  // Answers a request that is not served, and closes. An answer sent before the
  // body was read (or in the middle of it) is followed by a bounded drain, so a
  // client still sending sees the answer instead of a reset.
  Task<void> refuse(ReadOutcome outcome) {
    Response response;
    switch (outcome) {
      case ReadOutcome::kRefused:
        response = std::move(*admission_.refusal);
        break;
      case ReadOutcome::kBodyTooLarge:
        response = admission_.too_large
                       ? std::move(*admission_.too_large)
                       : Response::error(
                             413, ErrorCode::kApiPayloadTooLarge,
                             "request body larger than " + std::to_string(body_limit_) + " bytes");
        break;
      case ReadOutcome::kHeaderTooLarge:
        response = Response::error(431, ErrorCode::kApiBadRequest, "request header too large");
        break;
      case ReadOutcome::kTimedOut:
        response = Response::error(408, ErrorCode::kTransportTimeout,
                                   "request timed out: nothing received for too long");
        break;
      case ReadOutcome::kBodyNotStored: {
        // The reason, never the server's paths.
        const int error = body_file_.error();
        response = Response::error(
            error == ENOSPC || error == EDQUOT ? 507 : 500, ErrorCode::kIoError,
            std::string("storing the request body: ") + std::strerror(error != 0 ? error : EIO));
        state_.log("storing a request body for " + request_.target + ": " +
                   std::strerror(error != 0 ? error : EIO));
        break;
      }
      default:
        response = Response::error(400, ErrorCode::kApiBadRequest, "malformed HTTP request");
        break;
    }
    body_file_.discard();
    head_only_ = false;
    const bool written = co_await send_body(response, false);
    // A client that stalled is not sending anything worth waiting for.
    if (written && outcome != ReadOutcome::kTimedOut) co_await linger();
  }

  Task<ReadOutcome> read_request(bool first) {
    request_.method = Method::kGet;
    request_.target.clear();
    request_.path.clear();
    request_.query.clear();
    request_.path_params.clear();
    request_.headers.clear();
    request_.body.clear();
    request_.body_file.reset();
    body_file_.discard();
    admission_ = Admission();
    parser_.emplace(request_);
    parser_->header_limit(static_cast<std::uint32_t>(
        std::min<std::size_t>(state_.options.max_header_bytes, UINT32_MAX)));
    // No limit until the route's is known (the header): Beast would otherwise check
    // a Content-Length against it first.
    parser_->body_limit(std::numeric_limits<std::uint64_t>::max());

    error_code ec;
    phase_ = Phase::kIdle;
    state_.set_waiting(this, true);
    tcp().expires_never();  // reads are bounded by the watchdog below
    if (!first && buffer_.size() == 0) {
      // Keep-alive: the next request may take up to the idle timeout to begin.
      watch_until(std::chrono::steady_clock::now() + state_.options.idle_timeout);
      const std::size_t got =
          co_await stream_.async_read_some(buffer_.prepare(kFirstReadBytes), redirect(ec));
      buffer_.commit(got);
      if (ec) {
        stop_watch();
        co_return ReadOutcome::kClosed;
      }
    }
    // The whole header within the header timeout of its first byte (of the accept,
    // on a new connection).
    watch_until((first ? accepted_at_ : std::chrono::steady_clock::now()) +
                state_.options.header_timeout);
    co_await bhttp::async_read_header(stream_, buffer_, *parser_, redirect(ec));
    if (ec) {
      stop_watch();
      if (timed_out_) co_return buffer_.size() > 0 ? ReadOutcome::kTimedOut : ReadOutcome::kClosed;
      co_return outcome_of(ec);
    }
    phase_ = Phase::kBusy;
    state_.set_waiting(this, false);
    if (parser_->is_done()) {
      stop_watch();
      co_return ReadOutcome::kRequest;
    }

    // A body follows. Nothing of it is read before the route has admitted the
    // request and its length is within the route's limit.
    admission_ = state_.admission(request_);
    if (admission_.refusal) {
      stop_watch();
      co_return ReadOutcome::kRefused;
    }
    body_limit_ =
        admission_.max_body_bytes != 0 ? admission_.max_body_bytes : state_.options.max_body_bytes;
    if (const auto length = parser_->content_length(); length && *length > body_limit_) {
      stop_watch();
      co_return ReadOutcome::kBodyTooLarge;
    }
    parser_->body_limit(static_cast<std::uint64_t>(body_limit_));  // chunked: while reading
    if (admission_.body_to_file) {
      if (!body_file_.open(state_.options.body_file_dir, state_.body_files)) {
        stop_watch();
        co_return ReadOutcome::kBodyNotStored;
      }
      parser_->write_to(&body_file_);
    }
    if (parser_->expects_continue() && parser_->version() >= 11) {
      static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
      tcp().expires_after(state_.options.idle_timeout);
      co_await asio::async_write(stream_, asio::buffer(kContinue.data(), kContinue.size()),
                                 redirect(ec));
      tcp().expires_never();
      if (ec) {
        stop_watch();
        co_return ReadOutcome::kClosed;
      }
    }
    // Each read may take up to the idle timeout: a body that keeps moving is never
    // cut, however long it takes; one that stalls is.
    while (!parser_->is_done()) {
      watch_until(std::chrono::steady_clock::now() + state_.options.idle_timeout);
      co_await bhttp::async_read_some(stream_, buffer_, *parser_, redirect(ec));
      if (ec) break;
    }
    stop_watch();
    if (!ec && admission_.body_to_file) {
      request_.body_file = body_file_.finish();
      if (!request_.body_file) co_return ReadOutcome::kBodyNotStored;
    }
    if (!ec) co_return ReadOutcome::kRequest;
    if (body_file_.error() != 0) co_return ReadOutcome::kBodyNotStored;
    if (timed_out_) co_return ReadOutcome::kTimedOut;
    co_return outcome_of(ec);
  }

  static ReadOutcome outcome_of(const error_code& ec) {
    if (ec == bhttp::error::body_limit) return ReadOutcome::kBodyTooLarge;
    if (ec == bhttp::error::header_limit) return ReadOutcome::kHeaderTooLarge;
    // A peer that hung up, mid-message or not, is not sent anything.
    if (ec == bhttp::error::end_of_stream || ec == bhttp::error::partial_message) {
      return ReadOutcome::kClosed;
    }
    if (ec.category() == bhttp::make_error_code(bhttp::error::bad_method).category()) {
      return ReadOutcome::kMalformed;
    }
    return ReadOutcome::kClosed;
  }

  // The watchdog: one timer per connection that cancels the socket's pending
  // operation once `deadline_` has passed (the operation then fails, timed_out_
  // says why). Moving the deadline later costs no timer operation: the timer
  // looks again when it fires.
  void watch_until(std::chrono::steady_clock::time_point deadline) {
    deadline_ = deadline;
    timed_out_ = false;
    if (!watchdog_armed_ || deadline < watchdog_->expiry()) arm_watchdog();
  }

  void stop_watch() {
    if (!watchdog_armed_) return;
    watchdog_armed_ = false;
    watchdog_->cancel();
  }

  void add_connection_field(bool keep_alive) {
    if (!keep_alive) {
      add_field(head_, "connection", "close");
    } else if (parser_ && parser_->version() < 11) {
      add_field(head_, "connection", "keep-alive");
    }
  }

  // Writes head_ and then `body`. On plain TCP one non-blocking sendmsg usually
  // takes it all, which spares an asynchronous operation (and its timer) per
  // response; whatever the socket does not take goes through async_write.
  // `more_follows`: the body is sent next with sendfile, so let the kernel pack the
  // head into the same segment.
  Task<bool> write_head_and(std::string_view body, bool more_follows = false) {
    std::size_t skip = 0;
    if constexpr (!kTls) {
      std::array<iovec, 2> parts{iovec{head_.data(), head_.size()},
                                 iovec{const_cast<char*>(body.data()), body.size()}};
      msghdr message{};
      message.msg_iov = parts.data();
      message.msg_iovlen = body.empty() ? 1 : 2;
      const ssize_t sent = ::sendmsg(tcp().socket().native_handle(), &message,
                                     MSG_NOSIGNAL | (more_follows ? MSG_MORE : 0));
      if (sent == static_cast<ssize_t>(head_.size() + body.size())) co_return true;
      if (sent < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) co_return false;
      skip = sent > 0 ? static_cast<std::size_t>(sent) : 0;
    }
    const std::size_t head_skip = std::min(skip, head_.size());
    const std::size_t body_skip = skip - head_skip;
    error_code ec;
    tcp().expires_after(state_.options.idle_timeout);
    const std::array<asio::const_buffer, 2> buffers{
        asio::buffer(head_.data() + head_skip, head_.size() - head_skip),
        asio::buffer(body.data() + body_skip, body.size() - body_skip)};
    co_await asio::async_write(stream_, buffers, redirect(ec));
    co_return !ec;
  }

  Task<bool> respond(Response& response, bool keep_alive) {
    if (response.status < 100 || response.status > 999) {
      state_.log("handler returned status " + std::to_string(response.status) + " for " +
                 request_.target);
      response = Response::error(500, ErrorCode::kInternal, "internal error");
    }
    if (response.event_stream) {
      co_await stream_events(response);
      co_return false;
    }
    if (response.file_path) co_return co_await send_file(response, keep_alive);
    co_return co_await send_body(response, keep_alive);
  }

  Task<bool> send_body(const Response& response, bool keep_alive) {
    begin_head(head_, response.status);
    add_handler_fields(head_, response.headers);
    const bool has_body = body_allowed(response.status);
    if (has_body) {
      head_ += "content-length: ";
      append_number(head_, response.body.size());
      head_ += "\r\n";
    }
    add_connection_field(keep_alive);
    head_ += "\r\n";
    const bool send = has_body && !head_only_;
    co_return co_await write_head_and(send ? std::string_view(response.body) : std::string_view());
  }

  Task<bool> send_error(int status, ErrorCode code, std::string_view message, bool keep_alive) {
    co_return co_await send_body(Response::error(status, code, message), keep_alive);
  }

  Task<bool> send_file(const Response& response, bool keep_alive) {
    FileCloser file{::open(response.file_path->c_str(), O_RDONLY | O_CLOEXEC)};
    struct stat info {};
    if (file.fd < 0 || ::fstat(file.fd, &info) != 0 || !S_ISREG(info.st_mode)) {
      const int error = errno;
      if (file.fd >= 0 || error == ENOENT || error == ENOTDIR) {
        co_return co_await send_error(404, ErrorCode::kApiNotFound, "no such file", keep_alive);
      }
      state_.log("cannot open " + *response.file_path + ": " + std::strerror(error));
      co_return co_await send_error(500, ErrorCode::kInternal, "internal error", keep_alive);
    }
    const auto size = static_cast<std::uint64_t>(info.st_size);

    std::string etag;
    if (const auto it = response.headers.find("etag"); it != response.headers.end()) {
      etag = it->second;
    } else {
      // Size and modification time: changes whenever the artifact is rewritten.
      char text[64];
      const auto mtime_ns =
          static_cast<unsigned long long>(info.st_mtim.tv_sec) * 1'000'000'000ull +
          static_cast<unsigned long long>(info.st_mtim.tv_nsec);
      const int length = std::snprintf(text, sizeof text, "\"%llx-%llx\"",
                                       static_cast<unsigned long long>(size), mtime_ns);
      etag.assign(text, static_cast<std::size_t>(length));
    }

    const std::string_view if_match = request_.header("if-match");
    if (!if_match.empty() && !etag_listed(if_match, etag)) {
      co_return co_await send_error(412, ErrorCode::kApiConflict, "the file has changed",
                                    keep_alive);
    }
    const std::string_view if_none_match = request_.header("if-none-match");
    const bool read_only = request_.method == Method::kGet || request_.method == Method::kHead;
    if (read_only && !if_none_match.empty() && etag_listed(if_none_match, etag)) {
      begin_head(head_, 304);
      add_field(head_, "etag", etag);
      add_connection_field(keep_alive);
      head_ += "\r\n";
      co_return co_await write_head_and({});
    }

    ByteRange range{0, size == 0 ? 0 : size - 1};
    RangeKind kind = RangeKind::kWhole;
    const std::string_view range_header = request_.header("range");
    const std::string_view if_range = request_.header("if-range");
    if (read_only && response.status == 200 && !range_header.empty() &&
        if_range_allows(if_range, etag)) {
      kind = parse_range(range_header, size, range);
    }
    if (kind == RangeKind::kUnsatisfiable) {
      Response refusal =
          Response::error(416, ErrorCode::kApiRangeNotSatisfiable, "range outside the file");
      std::string content_range = "bytes */";
      append_number(content_range, size);
      refusal.headers.emplace("content-range", std::move(content_range));
      co_return co_await send_body(refusal, keep_alive);
    }

    const std::uint64_t length =
        kind == RangeKind::kPartial || size > 0 ? range.last - range.first + 1 : 0;
    begin_head(head_, kind == RangeKind::kPartial ? 206 : response.status);
    add_handler_fields(head_, response.headers, "etag");
    if (response.headers.find("content-type") == response.headers.end()) {
      add_field(head_, "content-type", "application/octet-stream");
    }
    add_field(head_, "etag", etag);
    add_field(head_, "accept-ranges", "bytes");
    if (kind == RangeKind::kPartial) {
      head_ += "content-range: bytes ";
      append_number(head_, range.first);
      head_ += '-';
      append_number(head_, range.last);
      head_ += '/';
      append_number(head_, size);
      head_ += "\r\n";
    }
    head_ += "content-length: ";
    append_number(head_, length);
    head_ += "\r\n";
    add_connection_field(keep_alive);
    head_ += "\r\n";
    const bool body_follows = !head_only_ && length > 0;
    if (response.on_file_body) response.on_file_body(body_follows ? length : 0);
    deadline_ = std::chrono::steady_clock::now() + state_.options.idle_timeout;
    const bool head_written = co_await write_head_and({}, body_follows && !kTls);
    if (!head_written) co_return false;
    if (!body_follows) co_return true;
    if constexpr (kTls) {
      co_return co_await copy_file(file.fd, range.first, length);
    } else {
      co_return co_await sendfile_body(file.fd, range.first, length);
    }
  }

  // Zero-copy: the kernel moves the file's pages into the socket. On a full socket
  // buffer we wait for writability; a watchdog, armed once per file, cancels the
  // wait when no byte has gone out for the idle timeout.
  Task<bool> sendfile_body(int fd, std::uint64_t first, std::uint64_t length) {
    Socket& socket = tcp().socket();
    auto offset = static_cast<off_t>(first);
    std::uint64_t remaining = length;
    error_code ec;
    bool ok = true;
    while (remaining > 0) {
      const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(remaining, 1u << 30));
      const ssize_t sent = ::sendfile(socket.native_handle(), fd, &offset, want);
      if (sent > 0) {
        remaining -= static_cast<std::uint64_t>(sent);
        deadline_ = std::chrono::steady_clock::now() + state_.options.idle_timeout;
        continue;
      }
      if (sent < 0 && errno == EINTR) continue;
      if (sent < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        if (!watchdog_armed_) arm_watchdog();
        co_await socket.async_wait(tcp::socket::wait_write, redirect(ec));
        if (!ec) continue;
      }
      // The peer left, the wait stalled, or the file shrank under us: the promised
      // length cannot be kept, so the connection must end.
      ok = false;
      break;
    }
    stop_watch();
    co_return ok;
  }

  void arm_watchdog() {
    if (!watchdog_) watchdog_.emplace(tcp().get_executor());
    watchdog_armed_ = true;
    watchdog_->expires_at(deadline_);
    watchdog_->async_wait([weak = this->weak_from_this()](error_code timer_error) {
      auto self = weak.lock();
      if (timer_error || !self || !self->watchdog_armed_) return;
      if (std::chrono::steady_clock::now() < self->deadline_) {
        self->arm_watchdog();  // the deadline moved since it was armed: look again later
        return;
      }
      self->watchdog_armed_ = false;
      self->timed_out_ = true;
      error_code ignored;
      self->tcp().socket().cancel(ignored);
    });
  }

  Task<bool> copy_file(int fd, std::uint64_t first, std::uint64_t length) {
    if (!file_buffer_) file_buffer_ = std::make_unique<char[]>(kFileChunkBytes);
    auto offset = static_cast<off_t>(first);
    std::uint64_t remaining = length;
    error_code ec;
    while (remaining > 0) {
      const auto want =
          static_cast<std::size_t>(std::min<std::uint64_t>(remaining, kFileChunkBytes));
      const ssize_t got = ::pread(fd, file_buffer_.get(), want, offset);
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0) co_return false;
      tcp().expires_after(state_.options.idle_timeout);
      co_await asio::async_write(
          stream_, asio::buffer(file_buffer_.get(), static_cast<std::size_t>(got)), redirect(ec));
      if (ec) co_return false;
      offset += got;
      remaining -= static_cast<std::uint64_t>(got);
    }
    co_return true;
  }

  Task<void> stream_events(const Response& response) {
    begin_head(head_, response.status);
    add_handler_fields(head_, response.headers, "content-type");
    add_field(head_, "content-type", "text/event-stream");
    if (response.headers.find("cache-control") == response.headers.end()) {
      add_field(head_, "cache-control", "no-cache");
    }
    add_field(head_, "x-accel-buffering", "no");  // reverse proxies: do not hold events back
    // No length: the stream ends when either side closes the connection.
    add_field(head_, "connection", "close");
    head_ += "\r\n";
    const bool head_written = co_await write_head_and({});
    if (!head_written || head_only_) co_return;

    const Executor executor = tcp().get_executor();
    channel_ = std::make_shared<EventChannel>(executor, this->weak_from_this());
    event_timer_.emplace(executor);
    phase_ = Phase::kStream;
    if (state_.stopping.load()) co_return;
    tcp().expires_never();
    asio::co_spawn(executor, watch_peer(this->shared_from_this()), asio::detached);
    try {
      response.event_stream(channel_);
    } catch (const std::exception& e) {
      state_.log(std::string("event stream handler failed on ") + request_.target + ": " +
                 e.what());
      co_return;
    }

    std::string pending;
    error_code ec;
    while (!channel_->closed()) {
      if (channel_->take(pending)) {
        tcp().expires_after(state_.options.idle_timeout);
        co_await asio::async_write(stream_, asio::buffer(pending), redirect(ec));
        if (ec) break;
        continue;
      }
      event_timer_->expires_after(state_.options.sse_heartbeat);
      co_await event_timer_->async_wait(redirect(ec));
      if (ec) continue;  // woken by send() or by a close
      static constexpr std::string_view kHeartbeat = ": heartbeat\n\n";
      tcp().expires_after(state_.options.idle_timeout);
      co_await asio::async_write(stream_, asio::buffer(kHeartbeat.data(), kHeartbeat.size()),
                                 redirect(ec));
      if (ec) break;
    }
    close_now();
  }

  // Reads (and ignores) whatever the client sends on an event stream, to learn
  // when it goes away.
  Task<void> watch_peer(std::shared_ptr<Connection> self) {
    (void)self;
    std::array<char, 512> scratch;
    error_code ec;
    while (!ec) co_await stream_.async_read_some(asio::buffer(scratch), redirect(ec));
    close_now();
  }

  Task<void> linger() {
    error_code ec;
    tcp().socket().shutdown(tcp::socket::shutdown_send, ec);
    tcp().expires_after(
        std::min<std::chrono::steady_clock::duration>(state_.options.idle_timeout, kLingerTime));
    std::array<char, 4096> scratch;
    std::size_t discarded = 0;
    while (!ec && discarded < kLingerBytes) {
      discarded += co_await tcp().async_read_some(asio::buffer(scratch), redirect(ec));
    }
  }

  ServerState& state_;
  Stream stream_;
  beast::flat_buffer buffer_;
  Request request_;
  std::optional<RequestParser> parser_;
  std::string head_;  // the response header being written; reused across requests
  bool head_only_ = false;
  Phase phase_ = Phase::kIdle;
  const std::chrono::steady_clock::time_point accepted_at_;
  Admission admission_;         // of the request being read
  std::size_t body_limit_ = 0;  // its body limit
  BodyFileWriter body_file_;    // its body, when the route wants it on disk
  std::optional<Timer> watchdog_;
  bool watchdog_armed_ = false;
  bool timed_out_ = false;  // the watchdog cancelled the last operation
  std::chrono::steady_clock::time_point deadline_;
  std::optional<Timer> event_timer_;
  std::shared_ptr<EventChannel> channel_;
  std::unique_ptr<char[]> file_buffer_;
};

}  // namespace

struct HttpServer::Impl {
  // Declaration order is destruction order reversed: the io_contexts (and the
  // connections their pending work owns) go before the TLS context and the state.
  ServerState state;
  std::optional<asio::ssl::context> tls;
  std::vector<std::unique_ptr<asio::io_context>> contexts;
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> guards;
  std::unique_ptr<Acceptor> acceptor;
  std::vector<std::thread> threads;
  std::atomic<std::uint16_t> port{0};
  bool started = false;
  bool stopped = false;
  std::size_t next_context = 0;

  Result<void, Error> load_tls() {
    const auto& options = state.options;
    if (options.tls_cert_path.empty() && options.tls_key_path.empty()) return {};
    if (options.tls_cert_path.empty() || options.tls_key_path.empty()) {
      return Error(ErrorCode::kTransportFailed, "TLS needs both a certificate and a key");
    }
    tls.emplace(asio::ssl::context::tls_server);
    error_code ec;
    tls->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                         asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                         asio::ssl::context::no_tlsv1_1,
                     ec);
    if (!ec) tls->use_certificate_chain_file(options.tls_cert_path, ec);
    if (ec) {
      return Error(ErrorCode::kTransportFailed,
                   "TLS certificate " + options.tls_cert_path + ": " + ec.message());
    }
    tls->use_private_key_file(options.tls_key_path, asio::ssl::context::pem, ec);
    if (ec) {
      return Error(ErrorCode::kTransportFailed,
                   "TLS key " + options.tls_key_path + ": " + ec.message());
    }
    return {};
  }

  Result<void, Error> listen() {
    const auto& options = state.options;
    error_code ec;
    const asio::ip::address address = asio::ip::make_address(options.address, ec);
    if (ec) {
      return Error(ErrorCode::kTransportFailed, "bad listen address " + options.address);
    }
    const tcp::endpoint endpoint(address, options.port);
    const std::string where = options.address + ":" + std::to_string(options.port);
    acceptor = std::make_unique<Acceptor>(contexts.front()->get_executor());
    acceptor->open(endpoint.protocol(), ec);
    if (!ec) acceptor->set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor->bind(endpoint, ec);
    if (!ec) acceptor->listen(asio::socket_base::max_listen_connections, ec);
    if (ec) return Error(ErrorCode::kTransportFailed, "listen on " + where + ": " + ec.message());
    port = acceptor->local_endpoint(ec).port();
    return {};
  }

  template <class StreamT, class... StreamArgs>
  void launch(const std::string& remote, StreamArgs&&... stream_args) {
    auto connection = std::make_shared<Connection<StreamT>>(
        state, remote, std::forward<StreamArgs>(stream_args)...);
    state.add(connection, remote);
    asio::co_spawn(connection->executor(), connection->run(connection), asio::detached);
  }

  // A connection over the caps: one non-blocking 503 (plain TCP only), then closed.
  static void turn_away(Socket& socket) {
    static const std::string kAnswer = [] {
      const Response busy =
          Response::error(503, ErrorCode::kApiUnavailable, "too many connections; try again later");
      return "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\n"
             "content-length: " +
             std::to_string(busy.body.size()) + "\r\nretry-after: 1\r\nconnection: close\r\n\r\n" +
             busy.body;
    }();
    (void)::send(socket.native_handle(), kAnswer.data(), kAnswer.size(),
                 MSG_NOSIGNAL | MSG_DONTWAIT);
  }

  Task<void> accept_loop() {
    for (;;) {
      asio::io_context& target = *contexts[next_context++ % contexts.size()];
      error_code ec;
      Socket socket = co_await acceptor->async_accept(target, redirect(ec));
      if (ec) {
        if (!acceptor->is_open() || state.stopping) co_return;
        state.log("accept failed: " + ec.message());
        // Out of descriptors, typically: pause instead of spinning on the same error.
        Timer pause(acceptor->get_executor(), std::chrono::milliseconds(50));
        co_await pause.async_wait(redirect(ec));
        continue;
      }
      if (state.stopping) continue;
      socket.set_option(tcp::no_delay(true), ec);
      const tcp::endpoint remote = socket.remote_endpoint(ec);
      asio::ip::address address = remote.address();
      // A dual-stack listener sees IPv4 clients as ::ffff:a.b.c.d; log them as a.b.c.d.
      if (address.is_v6() && address.to_v6().is_v4_mapped()) {
        address = asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6());
      }
      const std::string remote_address = ec ? std::string() : address.to_string();
      std::vector<std::shared_ptr<ConnectionBase>> evict;
      if (!state.make_room(remote_address, evict)) {
        if (!tls) turn_away(socket);
        continue;  // the socket closes here
      }
      for (std::shared_ptr<ConnectionBase>& connection : evict) {
        asio::post(connection->executor(), [connection] { connection->on_evict(); });
      }
      if (tls) {
        launch<TlsStream>(remote_address, std::move(socket), *tls);
      } else {
        launch<PlainStream>(remote_address, std::move(socket));
      }
    }
  }

  // Posts on_stop to every live connection, each on its own thread.
  void signal_connections(bool force) {
    // Collect under the lock, post outside it: a reference taken here may turn out
    // to be a connection's last, and its destructor takes state.mutex to unregister.
    std::vector<std::shared_ptr<ConnectionBase>> live;
    {
      std::lock_guard lock(state.mutex);
      for (const auto& [raw, tracked] : state.connections) {
        if (auto connection = tracked.ref.lock()) live.push_back(std::move(connection));
      }
    }
    for (std::shared_ptr<ConnectionBase>& connection : live) {
      asio::post(connection->executor(), [connection, force] { connection->on_stop(force); });
    }
  }

  bool wait_closed(std::chrono::steady_clock::time_point deadline) {
    std::unique_lock lock(state.mutex);
    return state.all_closed.wait_until(lock, deadline, [&] { return state.connections.empty(); });
  }
};

HttpServer::HttpServer(HttpServerOptions options, Handler handler, Admit admit)
    : impl_(std::make_unique<Impl>()) {
  impl_->state.options = std::move(options);
  impl_->state.handler = std::move(handler);
  impl_->state.admit = std::move(admit);
}

HttpServer::HttpServer(HttpServerOptions options, const Router& router)
    : HttpServer(
          std::move(options), [&router](Request& request) { return router.dispatch(request); },
          [&router](Request& request) { return router.admit(request); }) {}

HttpServer::~HttpServer() { stop(std::chrono::milliseconds(0)); }

Result<void, Error> HttpServer::start() {
  Impl& impl = *impl_;
  if (impl.started) return Error(ErrorCode::kInvalidArgument, "server already started");
  impl.started = true;
  UPDRAFT_TRY(impl.load_tls());
  HttpServerOptions& options = impl.state.options;
  if (options.max_connections == 0) options.max_connections = connection_cap_from_fd_limit();
  if (options.max_connections_per_ip == 0) {
    options.max_connections_per_ip = std::max<std::size_t>(1, options.max_connections / 4);
  }
  if (options.body_file_dir.empty()) {
    std::error_code ec;
    options.body_file_dir = std::filesystem::temp_directory_path(ec).string();
    if (ec) options.body_file_dir = "/tmp";
  }
  unsigned count = impl.state.options.threads;
  if (count == 0) count = std::max(1u, std::thread::hardware_concurrency());
  for (unsigned i = 0; i < count; ++i) {
    // One thread per context: asio may then skip most of its locking.
    impl.contexts.push_back(std::make_unique<asio::io_context>(1));
    impl.guards.push_back(asio::make_work_guard(*impl.contexts.back()));
  }
  UPDRAFT_TRY(impl.listen());
  asio::co_spawn(*impl.contexts.front(), impl.accept_loop(), asio::detached);
  for (auto& context : impl.contexts) {
    impl.threads.emplace_back([&impl, io = context.get()] {
      // sendfile(2) has no MSG_NOSIGNAL: a peer that leaves mid-file would raise
      // SIGPIPE, whose default kills the process. Blocked here, the call fails with
      // EPIPE instead, and the rest of the process keeps its own signal handling.
      sigset_t pipe;
      sigemptyset(&pipe);
      sigaddset(&pipe, SIGPIPE);
      pthread_sigmask(SIG_BLOCK, &pipe, nullptr);
      for (;;) {
        try {
          io->run();
          return;
        } catch (const std::exception& e) {
          impl.state.log(std::string("event loop: ") + e.what());
        }
      }
    });
  }
  return {};
}

std::uint16_t HttpServer::port() const { return impl_->port.load(); }

std::size_t HttpServer::max_connections() const {
  return impl_->started ? impl_->state.options.max_connections : 0;
}

std::size_t HttpServer::max_connections_per_ip() const {
  return impl_->started ? impl_->state.options.max_connections_per_ip : 0;
}

std::size_t HttpServer::connection_count() const {
  std::lock_guard lock(impl_->state.mutex);
  return impl_->state.connections.size();
}

void HttpServer::stop(std::chrono::milliseconds grace) {
  Impl& impl = *impl_;
  if (!impl.started || impl.stopped) return;
  impl.stopped = true;
  impl.state.stopping = true;
  const auto deadline = std::chrono::steady_clock::now() + grace;
  if (impl.acceptor) {
    asio::post(impl.acceptor->get_executor(), [&impl] {
      error_code ec;
      impl.acceptor->close(ec);
    });
  }
  impl.signal_connections(false);
  if (!impl.wait_closed(deadline)) {
    impl.signal_connections(true);
    // Closing sockets completes every pending operation at once; this bound only
    // guards against a handler that never returns.
    (void)impl.wait_closed(std::chrono::steady_clock::now() + std::chrono::seconds(2));
  }
  impl.guards.clear();
  for (auto& context : impl.contexts) context->stop();
  for (auto& thread : impl.threads) thread.join();
  impl.threads.clear();
  impl.acceptor.reset();
  impl.contexts.clear();  // destroys leftover coroutines and the connections they own
}

}  // namespace updraft::net::http
