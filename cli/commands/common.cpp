#include "cli/commands/common.hpp"

#include <ctime>
#include <iostream>

#include "sdk/client/convert.hpp"
#include "sdk/core/time.hpp"

namespace weft::cli {

int Fail(const core::Error& error) {
  // Some statuses (UNIMPLEMENTED from an older server) come without a message.
  std::string m = error.message;
  if (m.empty() || m.back() == ' ') {
    m += static_cast<int>(error.code) == 12
             ? "UNIMPLEMENTED: the server does not have this call (is it older than this weft?)"
             : core::CodeName(error.code);
  }
  if (error.code == core::Code::kUnauthenticated) {
    m += "\nhint: set WEFT_API_KEY (or --api-key) to a key from `weft api-key create`; on the "
         "server's machine, as its user, the local admin key (" +
         client::LocalAdminKeyFile() + ") is used when nothing is set";
  } else if (error.code == core::Code::kPermissionDenied) {
    m += "\nhint: `weft whoami` shows this key's scope; an admin can create one with the "
         "scope needed (weft api-key create NAME --scope ...)";
  }
  return Fail(m);
}

namespace {

// Pages through a state history (the server answers at most 1000 states a call).
template <typename Resp, typename Req, typename Call>
core::Result<Resp> WholeHistory(Req req, Call call) {
  Resp all;
  req.mutable_page()->set_limit(1000);
  for (;;) {
    auto page = call(req);
    if (!page) return page.error();
    for (auto& s : *page->mutable_states()) *all.add_states() = std::move(s);
    if (page->page().next_cursor().empty()) return all;
    req.mutable_page()->set_cursor(page->page().next_cursor());
  }
}

}  // namespace

core::Result<v1::ListFlowRunStatesResponse> FlowRunHistory(client::Client& c,
                                                           const std::string& flow_run_id) {
  v1::ListFlowRunStatesRequest req;
  req.set_flow_run_id(flow_run_id);
  return WholeHistory<v1::ListFlowRunStatesResponse>(
      req, [&](const v1::ListFlowRunStatesRequest& r) { return c.ListFlowRunStates(r); });
}

core::Result<v1::ListTaskRunStatesResponse> TaskRunHistory(client::Client& c,
                                                           const std::string& task_run_id) {
  v1::ListTaskRunStatesRequest req;
  req.set_task_run_id(task_run_id);
  return WholeHistory<v1::ListTaskRunStatesResponse>(
      req, [&](const v1::ListTaskRunStatesRequest& r) { return c.ListTaskRunStates(r); });
}

int Fail(const std::string& message) {
  std::cerr << "error: " << message << std::endl;
  return 1;
}

std::string ShortTime(const google::protobuf::Timestamp& t) {
  if (t.seconds() == 0 && t.nanos() == 0) return "";
  std::time_t secs = static_cast<std::time_t>(t.seconds());
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
  return buf;
}

std::string StateLabel(const v1::State& s) {
  std::string label = s.name().empty() ? "?" : s.name();
  if (s.type() == v1::SCHEDULED && s.has_scheduled_time()) {
    label += " (" + ShortTime(s.scheduled_time()) + ")";
  }
  return label;
}

std::string Join(const std::vector<std::string>& parts, const std::string& sep) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i) out += sep;
    out += parts[i];
  }
  return out;
}

}  // namespace weft::cli
