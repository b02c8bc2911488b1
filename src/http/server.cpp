// server.cpp — the only Boost.Beast translation unit: accept loop, sessions, limits, deadlines,
// graceful shutdown. Request semantics live in router.cpp.
#include "server.hpp"

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <cstdlib>
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

namespace vllm_mem::http {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;
using tcp = boost::asio::ip::tcp;

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
  void begin_stop();
  void poll_stop();
  void register_session(const std::shared_ptr<session>& s);
  void unregister_session(session* s);

  const router& r;
  server_options opt;
  std::vector<std::thread> threads;
  std::atomic<unsigned> connections{0};
  std::atomic<bool> stopping{false};
  std::uint16_t bound_port = 0;
  std::mutex sessions_mutex;
  std::unordered_set<session*> sessions;
  std::vector<std::weak_ptr<session>> session_refs;
  std::atomic<int> signal_count{0};
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
      : stream_(std::move(socket)), srv_(srv), reject_(reject) {}

  ~session() {
    if (!reject_) srv_.unregister_session(this);
    srv_.connections.fetch_sub(1, std::memory_order_relaxed);
  }

  void run() {
    net::dispatch(stream_.get_executor(),
                  beast::bind_front_handler(&session::start, shared_from_this()));
  }

  // Closes the connection if it is waiting for a request (graceful shutdown).
  void close_if_idle() {
    net::post(stream_.get_executor(), [self = shared_from_this()] {
      if (self->reading_) {
        beast::error_code ec;
        self->stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
        self->stream_.socket().close(ec);
      }
    });
  }

 private:
  void start() {
    if (reject_) {
      write_error(503, "the server is at its connection limit; retry shortly", false);
      return;
    }
    do_read();
  }

  void do_read() {
    if (srv_.stopping.load(std::memory_order_relaxed)) return close();
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(srv_.opt.header_limit));
    parser_->body_limit(srv_.opt.body_limit);
    const unsigned secs =
        served_ == 0 ? srv_.opt.request_timeout_seconds : srv_.opt.idle_timeout_seconds;
    stream_.expires_after(std::chrono::seconds(secs));
    reading_ = true;
    bhttp::async_read(stream_, buffer_, *parser_,
                      beast::bind_front_handler(&session::on_read, shared_from_this()));
  }

  void on_read(beast::error_code ec, std::size_t) {
    reading_ = false;
    if (ec == bhttp::error::end_of_stream || ec == beast::error::timeout ||
        ec == net::error::operation_aborted || ec == net::error::connection_reset ||
        ec == net::error::eof || ec == net::error::bad_descriptor) {
      return close();
    }
    if (ec == bhttp::error::body_limit) {
      return write_error(
          413, "the request body is larger than " + std::to_string(srv_.opt.body_limit) + " bytes",
          false);
    }
    if (ec == bhttp::error::header_limit || ec == beast::http::error::buffer_overflow) {
      return write_error(
          431,
          "the request header is larger than " + std::to_string(srv_.opt.header_limit) + " bytes",
          false);
    }
    if (ec) return write_error(400, "malformed HTTP request: " + ec.message(), false);
    handle(parser_->get());
  }

  void handle(const bhttp::request<bhttp::string_body>& req) {
    ++served_;
    const bool keep = req.keep_alive() && served_ < srv_.opt.max_requests_per_connection &&
                      !srv_.stopping.load(std::memory_order_relaxed);
    const auto te = req[bhttp::field::transfer_encoding];
    if (!te.empty() && !beast::iequals(te, "chunked")) {
      return write_error(501,
                         "Transfer-Encoding '" + std::string(te) +
                             "' is not supported; use chunked or Content-Length",
                         false);
    }
    if (!req[bhttp::field::content_encoding].empty()) {
      return write_error(415, "Content-Encoding is not supported; send the body uncompressed",
                         false);
    }
    const auto ctype = req[bhttp::field::content_type];
    if (req.method() == bhttp::verb::post && !ctype.empty()) {
      const std::string_view ct(ctype.data(), ctype.size());
      if (!(ct.size() >= 16 && beast::iequals(ct.substr(0, 16), "application/json"))) {
        return write_error(
            415, "Content-Type must be application/json, got '" + std::string(ct) + "'", keep);
      }
    }
    request rq;
    const auto method = req.method_string();
    rq.method = std::string_view(method.data(), method.size());
    const auto target = req.target();
    rq.target = std::string_view(target.data(), target.size());
    rq.body = req.body();
    rq.content_type = std::string_view(ctype.data(), ctype.size());
    const auto accept = req[bhttp::field::accept];
    rq.accept = std::string_view(accept.data(), accept.size());
    try {
      srv_.r.handle(rq, out_);  // reuses out_'s buffers from the previous request
    } catch (const std::exception&) {
      out_ = response{};
      out_.status = 500;
      out_.body = error_body("internal error", "");
    }
    if (srv_.opt.access_log) {
      std::fprintf(stderr, "%.*s %.*s %d %zu\n", static_cast<int>(rq.method.size()),
                   rq.method.data(), static_cast<int>(rq.target.size()), rq.target.data(),
                   out_.status, out_.text().size());
    }
    send(req.version(), keep, req.method() == bhttp::verb::head);
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
    stream_.expires_after(std::chrono::seconds(srv_.opt.request_timeout_seconds));
    const std::array<net::const_buffer, 2> buffers{
        net::buffer(head_), net::buffer(body.data(), head ? 0 : body.size())};
    net::async_write(stream_, buffers,
                     beast::bind_front_handler(&session::on_write, shared_from_this()));
  }

  void write_error(int status, const std::string& detail, bool keep) {
    out_ = response{};
    out_.status = status;
    out_.body = error_body(detail, "");
    send(11, keep, false);
  }

  void on_write(beast::error_code ec, std::size_t) {
    if (ec || !keep_) return close();
    do_read();
  }

  void close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    stream_.socket().close(ec);
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_{16384};
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  response out_;      // the response being written; its storage is reused
  std::string head_;  // its status line and header fields
  server::impl& srv_;
  bool reject_ = false;
  bool keep_ = false;
  bool reading_ = false;
  unsigned served_ = 0;
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
    do_accept();  // transient (e.g. too many open files): keep accepting
    return;
  }
  beast::error_code ignored;
  socket.set_option(tcp::no_delay(true), ignored);
  const unsigned n = connections.fetch_add(1, std::memory_order_relaxed) + 1;
  const bool reject = n > opt.max_connections || stopping.load(std::memory_order_relaxed);
  auto s = std::make_shared<session>(std::move(socket), *this, reject);
  if (!reject) register_session(s);
  s->run();
  do_accept();
}

// Finishes early when every connection is gone before the 5 s deadline.
void server::impl::poll_stop() {
  if (connections.load() == 0) {
    stop_timer->cancel();
    stop_all();
    return;
  }
  poll_timer->expires_after(std::chrono::milliseconds(20));
  poll_timer->async_wait([this](beast::error_code ec) {
    if (!ec) poll_stop();
  });
}

void server::impl::begin_stop() {
  if (stopping.exchange(true)) return;
  net::post(main_ioc(), [this] {
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
    for (auto& s : live) s->close_if_idle();
    stop_timer.emplace(main_ioc());
    stop_timer->expires_after(std::chrono::seconds(5));
    stop_timer->async_wait([this](beast::error_code e) {
      if (!e) stop_all();
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

void server::stop() { impl_->begin_stop(); }

void server::handle_signals() {
  impl_->signals->add(SIGINT);
  impl_->signals->add(SIGTERM);
  impl_->signals->async_wait([this](beast::error_code ec, int) {
    if (ec) return;
    impl_->begin_stop();
  });
}

}  // namespace vllm_mem::http
