// server.cpp — the only Boost.Beast translation unit: accept loop, sessions, limits, deadlines,
// metrics and access log, graceful shutdown. Request semantics live in router.cpp.
#include "server.hpp"

#include <array>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_set>
#include <vector>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "vllm_mem/version.hpp"

namespace vllm_mem::http {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;
using tcp = boost::asio::ip::tcp;
using clock_type = std::chrono::steady_clock;

namespace {

using beast_request = bhttp::request<bhttp::string_body>;
using request_parser = bhttp::request_parser<bhttp::string_body>;

// A request the server answers itself with an error, before (or instead of) the router.
struct rejection {
  int status;
  reject_reason reason;
  std::string detail;
  bool keep;  // the connection can stay open (the request was read whole and well framed)
};

// The read buffer's bound: a header up to the limit plus what follows it in the same read; a
// chunk header that does not fit (a 20 KB chunk extension) fails instead of growing memory.
std::size_t buffer_limit(const server_options& opt) {
  return std::max<std::size_t>(16384, 2 * opt.header_limit_bytes);
}

void configure(request_parser& p, const server_options& opt) {
  p.header_limit(static_cast<std::uint32_t>(opt.header_limit_bytes));
  p.body_limit(opt.body_limit_bytes);
}

// The answer to a read that failed with `ec` (not end of stream nor a closed socket).
rejection read_rejection(beast::error_code ec, const request_parser& p, const server_options& opt) {
  if (ec == bhttp::error::body_limit) {
    return {413, reject_reason::body_too_large,
            "the request body is larger than " + std::to_string(opt.body_limit_bytes) + " bytes",
            false};
  }
  if (!p.is_header_done() &&
      (ec == bhttp::error::header_limit || ec == bhttp::error::buffer_overflow)) {
    // Cheap to tell apart: the parser sets the target once it has the whole request line.
    if (p.get().target().empty()) {
      return {
          414, reject_reason::target_too_long,
          "the request line is longer than " + std::to_string(opt.header_limit_bytes) + " bytes",
          false};
    }
    return {
        431, reject_reason::header_too_large,
        "the request header is larger than " + std::to_string(opt.header_limit_bytes) + " bytes",
        false};
  }
  return {400, reject_reason::bad_framing, "malformed HTTP request: " + ec.message(), false};
}

bool is_json_content_type(std::string_view ct) {
  constexpr std::string_view json = "application/json";
  if (ct.size() < json.size() || !beast::iequals(ct.substr(0, json.size()), json)) return false;
  return ct.size() == json.size() || ct[json.size()] == ';' || ct[json.size()] == ' ';
}

// The size of the request line and header fields as received (without obs-fold whitespace).
std::size_t header_bytes(const beast_request& req) {
  std::size_t n = req.method_string().size() + req.target().size() + 12;  // " ", " HTTP/1.1\r\n"
  for (const auto& f : req) n += f.name_string().size() + f.value().size() + 4;  // ": ", "\r\n"
  return n + 2;
}

// The checks on a request read whole, before routing.
std::optional<rejection> check_request(const beast_request& req, const server_options& opt) {
  // Beast 1.74 applies header_limit to what it has not consumed yet: fields it parsed from an
  // earlier read do not count, so a header can exceed the limit by up to one read. That bounds
  // memory; this makes the limit exact.
  if (header_bytes(req) > opt.header_limit_bytes) {
    return rejection{
        431, reject_reason::header_too_large,
        "the request header is larger than " + std::to_string(opt.header_limit_bytes) + " bytes",
        false};
  }
  if (req.target().size() > opt.target_limit_bytes) {
    return rejection{
        414, reject_reason::target_too_long,
        "the request target is longer than " + std::to_string(opt.target_limit_bytes) + " bytes",
        false};
  }
  const auto te = req[bhttp::field::transfer_encoding];
  if (!te.empty() && !beast::iequals(te, "chunked")) {
    return rejection{501, reject_reason::unsupported_encoding,
                     "Transfer-Encoding '" + std::string(te) +
                         "' is not supported; use chunked or Content-Length",
                     false};
  }
  if (!req[bhttp::field::content_encoding].empty()) {
    return rejection{415, reject_reason::unsupported_encoding,
                     "Content-Encoding is not supported; send the body uncompressed", false};
  }
  const auto ct = req[bhttp::field::content_type];
  if (req.method() == bhttp::verb::post && !ct.empty() && !is_json_content_type(ct)) {
    return rejection{415, reject_reason::content_type,
                     "Content-Type must be application/json, got '" + std::string(ct) + "'",
                     req.keep_alive()};
  }
  return std::nullopt;
}

// A SyncReadStream over bytes in memory, for parse_request_bytes.
class bytes_stream {
 public:
  explicit bytes_stream(std::string_view d) : data_(d) {}
  template <class MutableBuffers>
  std::size_t read_some(const MutableBuffers& b, beast::error_code& ec) {
    ec = {};
    if (pos_ == data_.size()) {
      ec = net::error::eof;
      return 0;
    }
    const std::size_t n =
        net::buffer_copy(b, net::buffer(data_.data() + pos_, data_.size() - pos_));
    pos_ += n;
    return n;
  }
  template <class MutableBuffers>
  std::size_t read_some(const MutableBuffers& b) {
    beast::error_code ec;
    const std::size_t n = read_some(b, ec);
    if (ec) throw beast::system_error(ec);
    return n;
  }

 private:
  std::string_view data_;
  std::size_t pos_ = 0;
};

// JSON string contents: quotes, backslashes, control and non-ASCII bytes escaped (\u00XX), so the
// line stays valid JSON whatever the client sent.
void append_json_escaped(std::string& out, std::string_view s) {
  static constexpr char hex[] = "0123456789abcdef";
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += ch;
    } else if (c < 0x20 || c >= 0x7f) {
      out += "\\u00";
      out += hex[c >> 4];
      out += hex[c & 15];
    } else {
      out += ch;
    }
  }
}

}  // namespace

parse_status parse_request_bytes(std::string_view raw, const server_options& opt) {
  parse_status st;
  bytes_stream stream(raw);
  beast::flat_buffer buffer(buffer_limit(opt));
  // Bounded like a connection: max_requests_per_connection, and at most one request per byte.
  while (st.requests_accepted < opt.max_requests_per_connection) {
    request_parser p;
    configure(p, opt);
    beast::error_code ec;
    bhttp::read(stream, buffer, p, ec);
    if (ec == bhttp::error::end_of_stream) break;
    if (ec == bhttp::error::partial_message) {
      st.incomplete = true;
      break;
    }
    std::optional<rejection> r;
    if (ec) {
      r = read_rejection(ec, p, opt);
    } else {
      r = check_request(p.get(), opt);
    }
    if (r) {
      st.status = r->status;
      st.reason = r->reason;
      st.detail = std::move(r->detail);
      break;
    }
    ++st.requests_accepted;
    if (!p.get().keep_alive()) break;
  }
  return st;
}

class session;

// One io_context per I/O thread: a connection lives on one of them from accept to close, so its
// handlers never run concurrently and need no strand; the acceptor, the signals and the stop
// timers live on the first one.
struct server::impl {
  impl(const router& rt, server_options o) : r(rt), opt(std::move(o)) {
    const unsigned n = thread_count(opt);
    for (unsigned i = 0; i < n; ++i) {
      iocs.push_back(std::make_unique<net::io_context>(1));
      work.emplace_back(iocs.back()->get_executor());  // threads wait for connections
    }
    acceptor.emplace(*iocs[0]);
    signals.emplace(*iocs[0]);
  }

  static unsigned thread_count(const server_options& o) {
    if (o.threads > 0) return o.threads;
    const unsigned n = std::thread::hardware_concurrency();
    return n == 0 ? 1 : n;
  }

  net::io_context& main_ioc() { return *iocs[0]; }
  void stop_all() {
    for (auto& c : iocs) c->stop();
  }

  void do_accept();
  void on_accept(beast::error_code ec, tcp::socket socket);
  void begin_stop(int signal_number);
  void poll_stop();
  void register_session(const std::shared_ptr<session>& s);
  void unregister_session(session* s);
  void log(log_level at, const std::string& line) const {
    if (opt.level >= at && opt.level != log_level::quiet) {
      std::fprintf(stderr, "vllm-mem: %s\n", line.c_str());
    }
  }

  const router& r;
  server_options opt;
  http::metrics m;
  std::vector<std::thread> threads;
  std::atomic<bool> stopping{false};
  std::uint16_t bound_port = 0;
  std::mutex sessions_mutex;
  std::unordered_set<session*> sessions;
  std::vector<std::weak_ptr<session>> session_refs;
  // Declared after the bookkeeping above: destroying an io_context destroys the sessions still
  // queued on it, and they unregister themselves.
  std::vector<std::unique_ptr<net::io_context>> iocs;
  std::vector<net::executor_work_guard<net::io_context::executor_type>> work;
  std::size_t next_ioc = 0;  // round-robin; used only on the acceptor's thread
  std::optional<tcp::acceptor> acceptor;
  std::optional<net::signal_set> signals;
  std::optional<net::steady_timer> stop_timer;
  std::optional<net::steady_timer> poll_timer;
};

class session : public std::enable_shared_from_this<session> {
 public:
  session(tcp::socket&& socket, server::impl& srv, bool reject)
      : stream_(std::move(socket)),
        buffer_(buffer_limit(srv.opt)),
        timer_(stream_.get_executor()),
        srv_(srv),
        reject_(reject) {}

  ~session() {
    if (in_flight_) srv_.m.request_finished();
    if (!reject_) srv_.unregister_session(this);
    srv_.m.connection_closed();
  }

  void run() {
    net::dispatch(stream_.get_executor(),
                  beast::bind_front_handler(&session::start, shared_from_this()));
  }

  // Closes the connection if it is waiting for a request and none began arriving (graceful
  // shutdown); a request that began arriving may finish within its deadline.
  void close_if_idle() {
    net::post(stream_.get_executor(), [self = shared_from_this()] {
      if (self->reading_ && !self->request_began()) {
        self->timer_.cancel();
        self->close();
      }
    });
  }

 private:
  void start() {
    if (reject_) {
      srv_.m.rejected(reject_reason::connection_limit);
      return reject({503, reject_reason::connection_limit,
                     "the server is at its connection limit; retry shortly", false});
    }
    do_read();
  }

  bool request_began() const { return buffer_.size() > 0 || (parser_ && parser_->got_some()); }

  void do_read() {
    if (srv_.stopping.load(std::memory_order_relaxed) && buffer_.size() == 0) return close();
    parser_.emplace();
    configure(*parser_, srv_.opt);
    // The read's deadline is this timer, not the stream's: the stream's closes the socket, and a
    // request that began arriving gets a 408 answer.
    timed_out_ = false;
    timer_.expires_after(served_ == 0 ? srv_.opt.request_timeout : srv_.opt.idle_timeout);
    // A wait that expired just as its read completed must not cancel the next read.
    timer_.async_wait([self = shared_from_this(), read = ++reads_](beast::error_code ec) {
      if (ec || !self->reading_ || read != self->reads_) return;
      self->timed_out_ = true;
      self->stream_.socket().cancel(ec);
    });
    stream_.expires_never();
    reading_ = true;
    bhttp::async_read(stream_, buffer_, *parser_,
                      beast::bind_front_handler(&session::on_read, shared_from_this()));
  }

  void on_read(beast::error_code ec, std::size_t) {
    reading_ = false;
    timer_.cancel();
    if (timed_out_) {
      if (!request_began()) return close();  // idle: nothing to answer
      srv_.m.rejected(reject_reason::timeout);
      return reject({408, reject_reason::timeout,
                     "the request did not arrive within the server's deadline", false});
    }
    if (ec == bhttp::error::end_of_stream || ec == net::error::operation_aborted ||
        ec == net::error::connection_reset || ec == net::error::eof ||
        ec == net::error::bad_descriptor || ec == bhttp::error::partial_message) {
      return close();
    }
    if (ec) {
      rejection r = read_rejection(ec, *parser_, srv_.opt);
      srv_.m.rejected(r.reason);
      return reject(std::move(r));
    }
    if (auto r = check_request(parser_->get(), srv_.opt)) {
      srv_.m.rejected(r->reason);
      return reject(std::move(*r));
    }
    handle(parser_->get());
  }

  void begin_request() {
    started_ = clock_type::now();
    in_flight_ = true;
    srv_.m.request_started();
    route_ =
        parser_ && parser_->is_header_done() ? route_of(parser_->get().target()) : route_id::other;
  }

  void handle(const beast_request& req) {
    begin_request();
    ++served_;
    const bool keep = req.keep_alive() && served_ < srv_.opt.max_requests_per_connection &&
                      !srv_.stopping.load(std::memory_order_relaxed);
    const bool get = req.method() == bhttp::verb::get || req.method() == bhttp::verb::head;
    if (route_ == route_id::metrics) {
      out_ = response{};
      if (get) {
        out_.content_type = "text/plain; version=0.0.4; charset=utf-8";
        srv_.m.render(out_.body, kVersion);
      } else {
        out_.status = 405;
        out_.allow = "GET";
        out_.body = error_body(
            "method " + std::string(req.method_string()) + " is not allowed on /metrics; use GET",
            "");
      }
    } else if (route_ == route_id::readyz && get && srv_.stopping.load(std::memory_order_relaxed)) {
      out_ = response{};
      out_.status = 503;
      out_.body = "{\"status\":\"stopping\"}";
    } else {
      request rq;
      rq.method = req.method_string();
      rq.target = req.target();
      rq.body = req.body();
      rq.content_type = req[bhttp::field::content_type];
      rq.accept = req[bhttp::field::accept];
      rq.origin = req[bhttp::field::origin];
      rq.host = req[bhttp::field::host];
      rq.mcp_protocol_version = req["MCP-Protocol-Version"];
      try {
        srv_.r.handle(rq, out_);  // reuses out_'s buffers from the previous request
      } catch (const std::exception& e) {
        srv_.log(log_level::error, std::string("internal error: ") + e.what());
        out_ = response{};
        out_.status = 500;
        out_.body = error_body("internal error", "");
      }
    }
    send(req.version(), keep, req.method() == bhttp::verb::head);
  }

  void reject(rejection r) {
    begin_request();
    out_ = response{};
    out_.status = r.status;
    out_.body = error_body(r.detail, "");
    const unsigned version = parser_ && parser_->is_header_done() ? parser_->get().version() : 11;
    send(version == 10 ? 10 : 11, r.keep && !srv_.stopping.load(std::memory_order_relaxed), false);
  }

  // Writes out_ as the response. The head is formatted here, as Beast's serializer would write
  // it for these fields (status line with Beast's reason phrase, Server, Content-Type, Allow,
  // the router's extra headers, Connection as keep_alive() sets it, Content-Length), then head and
  // body go out in one gathered write without copying the body.
  void send(unsigned version, bool keep, bool head) {
    const std::string_view body = out_.text();
    head_.clear();
    head_ += "HTTP/";
    head_ += static_cast<char>('0' + version / 10 % 10);
    head_ += '.';
    head_ += static_cast<char>('0' + version % 10);
    head_ += ' ';
    head_ += std::to_string(out_.status);
    head_ += ' ';
    const auto reason = bhttp::obsolete_reason(static_cast<bhttp::status>(out_.status));
    head_.append(reason.data(), reason.size());
    head_ += "\r\nServer: vllm-mem\r\nContent-Type: ";
    head_ += out_.content_type;
    if (!out_.allow.empty()) {
      head_ += "\r\nAllow: ";
      head_ += out_.allow;
    }
    for (const auto& [name, value] : out_.headers) {
      head_ += "\r\n";
      head_ += name;
      head_ += ": ";
      head_ += value;
    }
    if (version < 11 && keep) head_ += "\r\nConnection: keep-alive";
    if (version >= 11 && !keep) head_ += "\r\nConnection: close";
    head_ += "\r\nContent-Length: ";
    head_ += std::to_string(body.size());
    head_ += "\r\n\r\n";
    keep_ = keep;
    bytes_ = head ? 0 : body.size();
    stream_.expires_after(srv_.opt.send_timeout);
    const std::array<net::const_buffer, 2> buffers{net::buffer(head_),
                                                   net::buffer(body.data(), bytes_)};
    net::async_write(stream_, buffers,
                     beast::bind_front_handler(&session::on_write, shared_from_this()));
  }

  void on_write(beast::error_code ec, std::size_t) {
    const auto us =
        std::chrono::duration_cast<std::chrono::microseconds>(clock_type::now() - started_);
    const auto duration_us = static_cast<std::uint64_t>(us.count());
    srv_.m.request_done(route_, out_.status, duration_us);
    srv_.m.request_finished();
    in_flight_ = false;
    if (srv_.opt.logs_requests()) log_access(duration_us);
    if (ec == beast::error::timeout) srv_.m.rejected(reject_reason::send_timeout);
    if (ec) return close();
    if (!keep_) return linger();
    do_read();
  }

  void log_access(std::uint64_t duration_us) {
    thread_local std::string line;
    line.clear();
    const auto now = std::chrono::system_clock::now();
    const std::time_t secs = std::chrono::system_clock::to_time_t(now);
    const auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() %
        1000;
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char when[96];
    std::snprintf(when, sizeof when, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                  static_cast<int>(ms));
    const bool parsed = parser_ && parser_->is_header_done();
    line += "{\"time\":\"";
    line += when;
    line += "\",\"method\":\"";
    if (parsed) append_json_escaped(line, parser_->get().method_string());
    line += "\",\"route\":\"";
    line += route_name(route_);
    line += "\",\"target\":\"";
    if (parsed) append_json_escaped(line, parser_->get().target());
    line += "\",\"status\":";
    line += std::to_string(out_.status);
    line += ",\"bytes\":";
    line += std::to_string(bytes_);
    line += ",\"duration_us\":";
    line += std::to_string(duration_us);
    line += ",\"remote\":\"";
    beast::error_code ec;
    const auto ep = stream_.socket().remote_endpoint(ec);
    if (!ec) {
      line += ep.address().to_string();
      line += ':';
      line += std::to_string(ep.port());
    }
    line += "\"}\n";
    std::fwrite(line.data(), 1, line.size(), stderr);
  }

  // After an answer that ends the connection: stop sending, then read and drop what the client
  // still sends (a body the server refused, pipelined requests) until it closes or a short
  // deadline passes, so the client gets the answer rather than a reset.
  void linger() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    if (ec) return close();
    stream_.expires_after(
        std::min<std::chrono::milliseconds>(srv_.opt.request_timeout, std::chrono::seconds(2)));
    do_drain();
  }

  void do_drain() {
    stream_.async_read_some(net::buffer(drain_),
                            [self = shared_from_this()](beast::error_code ec, std::size_t) {
                              if (ec) return self->close();
                              self->do_drain();
                            });
  }

  void close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
    stream_.socket().close(ec);
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  net::steady_timer timer_;
  std::optional<request_parser> parser_;
  response out_;      // the response being written; its storage is reused
  std::string head_;  // its status line and header fields
  server::impl& srv_;
  clock_type::time_point started_{};
  std::size_t bytes_ = 0;  // body bytes of the response being written
  route_id route_ = route_id::other;
  bool reject_ = false;
  bool keep_ = false;
  bool reading_ = false;
  bool timed_out_ = false;
  bool in_flight_ = false;
  unsigned served_ = 0;
  std::uint64_t reads_ = 0;  // reads started, to tell a stale deadline from the current one
  std::array<char, 4096> drain_{};
};

void server::impl::register_session(const std::shared_ptr<session>& s) {
  std::lock_guard<std::mutex> lock(sessions_mutex);
  sessions.insert(s.get());
  session_refs.push_back(s);
  if (session_refs.size() > 4 * sessions.size() + 64) {
    std::vector<std::weak_ptr<session>> live;
    for (auto& w : session_refs) {
      if (!w.expired()) live.push_back(w);
    }
    session_refs.swap(live);
  }
}

void server::impl::unregister_session(session* s) {
  std::lock_guard<std::mutex> lock(sessions_mutex);
  sessions.erase(s);
}

void server::impl::do_accept() {
  // The next connection's socket belongs to the next io_context in turn.
  net::io_context& target = *iocs[next_ioc];
  next_ioc = (next_ioc + 1) % iocs.size();
  acceptor->async_accept(target, beast::bind_front_handler(&server::impl::on_accept, this));
}

void server::impl::on_accept(beast::error_code ec, tcp::socket socket) {
  if (ec) {
    if (ec == net::error::operation_aborted || !acceptor->is_open()) return;
    log(log_level::error, "accept failed: " + ec.message());
    do_accept();  // transient (e.g. too many open files): keep accepting
    return;
  }
  beast::error_code ignored;
  socket.set_option(tcp::no_delay(true), ignored);
  m.connection_opened();
  const std::uint64_t n = m.connection_count_after_open();
  const bool reject = n > opt.max_connections || stopping.load(std::memory_order_relaxed);
  auto s = std::make_shared<session>(std::move(socket), *this, reject);
  if (!reject) register_session(s);
  s->run();
  do_accept();
}

// Finishes early when every connection is gone before the shutdown deadline.
void server::impl::poll_stop() {
  if (m.connections_open() == 0) {
    stop_timer->cancel();
    stop_all();
    return;
  }
  poll_timer->expires_after(std::chrono::milliseconds(20));
  poll_timer->async_wait([this](beast::error_code ec) {
    if (!ec) poll_stop();
  });
}

void server::impl::begin_stop(int signal_number) {
  if (stopping.exchange(true)) return;
  net::post(main_ioc(), [this, signal_number] {
    beast::error_code ec;
    acceptor->close(ec);
    signals->clear(ec);  // a second signal now ends the process
    std::vector<std::shared_ptr<session>> live;
    {
      std::lock_guard<std::mutex> lock(sessions_mutex);
      for (auto& w : session_refs) {
        if (auto s = w.lock()) live.push_back(s);
      }
    }
    if (signal_number != 0) {
      log(log_level::info, std::string(signal_number == SIGTERM ? "SIGTERM" : "SIGINT") +
                               ": stopping; finishing " + std::to_string(m.in_flight()) +
                               " requests in flight on " + std::to_string(m.connections_open()) +
                               " connections (up to " +
                               std::to_string(opt.shutdown_timeout.count()) + " ms)");
    }
    for (auto& s : live) s->close_if_idle();
    stop_timer.emplace(main_ioc());
    stop_timer->expires_after(opt.shutdown_timeout);
    stop_timer->async_wait([this](beast::error_code e) {
      if (e) return;
      log(log_level::error, "shutdown deadline passed with " +
                                std::to_string(m.connections_open()) + " connections open");
      stop_all();
    });
    poll_timer.emplace(main_ioc());
    poll_stop();
  });
}

server::server(const router& r, server_options opt)
    : impl_(std::make_unique<impl>(r, std::move(opt))) {}

server::~server() {
  stop();
  wait();
}

std::string server::start() {
  beast::error_code ec;
  const auto address = net::ip::make_address(impl_->opt.host, ec);
  if (ec) return "invalid host '" + impl_->opt.host + "': " + ec.message();
  const tcp::endpoint ep(address, impl_->opt.port);
  tcp::acceptor& acceptor = *impl_->acceptor;
  acceptor.open(ep.protocol(), ec);
  if (ec) return "cannot open a socket: " + ec.message();
  acceptor.set_option(net::socket_base::reuse_address(true), ec);
  acceptor.bind(ep, ec);
  if (ec)
    return "cannot listen on " + impl_->opt.host + ":" + std::to_string(impl_->opt.port) + ": " +
           ec.message();
  acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) return "cannot listen: " + ec.message();
  impl_->bound_port = acceptor.local_endpoint().port();
  impl_->do_accept();
  for (auto& ioc : impl_->iocs) {
    impl_->threads.emplace_back([&ioc] { ioc->run(); });
  }
  return {};
}

std::uint16_t server::port() const { return impl_->bound_port; }

void server::wait() {
  for (auto& t : impl_->threads) {
    if (t.joinable()) t.join();
  }
  impl_->threads.clear();
}

void server::stop() { impl_->begin_stop(0); }

void server::handle_signals() {
  impl_->signals->add(SIGINT);
  impl_->signals->add(SIGTERM);
  impl_->signals->async_wait([this](beast::error_code ec, int signal_number) {
    if (ec) return;
    impl_->begin_stop(signal_number);
  });
}

const http::metrics& server::metrics() const { return impl_->m; }

}  // namespace vllm_mem::http
