// weft deployment create|ls|inspect|run|pause|resume|delete|upcoming|backfill
#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <utility>
#include <vector>

#include "cli/commands/common.hpp"
#include "cli/commands/spec_yaml.hpp"
#include "cli/output/json.hpp"
#include "cli/output/table.hpp"
#include "sdk/client/bundle.hpp"
#include "sdk/client/convert.hpp"
#include "sdk/client/storage/bundle_store.hpp"
#include "sdk/core/deployment_spec.hpp"
#include "sdk/core/field_limits.hpp"
#include "sdk/core/schedule.hpp"
#include "sdk/core/time.hpp"

namespace weft::cli {

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

// ---- reading specs -----------------------------------------------------------------------

struct Loaded {
  std::string where;  // "deploy.yaml" or "program ./build/my_flow"
  fs::path base_dir;  // includes are relative to it
  std::vector<core::DeploymentSpec> specs;
};


core::Result<std::string> ReadYamlAsJson(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  if (!in.is_open() || in.bad()) return core::InvalidArgument(path + ": cannot read the file");
  return DeploymentYamlToJson(text, path);
}

struct Captured {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Runs argv with stdout and stderr captured; killed after `timeout_seconds`.
core::Result<Captured> RunCapture(const std::vector<std::string>& argv, double timeout_seconds) {
  int out_pipe[2], err_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0 || ::pipe2(err_pipe, O_CLOEXEC) != 0) {
    return core::Internal("pipe failed");
  }
  pid_t pid = ::fork();
  if (pid < 0) return core::Internal("fork failed");
  if (pid == 0) {
    ::dup2(out_pipe[1], 1);
    ::dup2(err_pipe[1], 2);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execv(args[0], args.data());
    std::string msg = "cannot execute: " + std::string(std::strerror(errno)) + "\n";
    (void)!::write(2, msg.data(), msg.size());
    ::_exit(127);
  }
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  Captured c;
  pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
  int open_fds = 2;
  auto deadline = std::chrono::steady_clock::now() +
                  std::chrono::milliseconds(static_cast<int>(timeout_seconds * 1000));
  bool timed_out = false;
  char buf[65536];
  while (open_fds > 0) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                    deadline - std::chrono::steady_clock::now())
                    .count();
    if (left <= 0) {
      timed_out = true;
      break;
    }
    int r = ::poll(fds, 2, static_cast<int>(std::min<long long>(left, 1000)));
    if (r < 0 && errno != EINTR) break;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
      if (n > 0) {
        (i == 0 ? c.out : c.err).append(buf, static_cast<std::size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        ::close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
      }
    }
  }
  if (timed_out) ::kill(pid, SIGKILL);
  for (auto& f : fds) {
    if (f.fd >= 0) ::close(f.fd);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (timed_out) {
    return core::Error{core::Code::kDeadlineExceeded,
                       fmt::format("did not finish within {}s", timeout_seconds)};
  }
  c.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return c;
}

bool IsSpecFileName(const fs::path& p) {
  std::string ext = p.extension().string();
  return ext == ".yaml" || ext == ".yml" || ext == ".json";
}

core::Result<Loaded> LoadSpecs(const std::string& path) {
  std::error_code ec;
  auto st = fs::status(path, ec);
  if (ec || !fs::exists(st)) return core::InvalidArgument(path + ": no such file");
  if (fs::is_directory(st)) {
    return core::InvalidArgument(path + ": is a directory (give a deploy.yaml or a flow program)");
  }
  Loaded loaded;
  fs::path abs = fs::absolute(path).lexically_normal();
  loaded.base_dir = abs.parent_path();
  bool executable = ::access(path.c_str(), X_OK) == 0;
  std::string json_text;
  if (executable && !IsSpecFileName(path)) {
    loaded.where = "program " + path;
    auto run = RunCapture({abs.string(), "--weft-describe"}, 60);
    if (!run)
      return core::InvalidArgument(loaded.where + ": --weft-describe " + run.error().message);
    if (run->exit_code != 0) {
      std::string err = run->err;
      while (!err.empty() && (err.back() == '\n' || err.back() == ' ')) err.pop_back();
      return core::InvalidArgument(fmt::format("{}: --weft-describe exited with {}{}{}",
                                               loaded.where, run->exit_code,
                                               err.empty() ? "" : ": ", err));
    }
    json_text = run->out;
  } else {
    loaded.where = path;
    auto text = ReadYamlAsJson(path);
    if (!text) return text.error();
    json_text = *text;
  }
  auto specs = core::DeploymentSpecsFromJson(json_text, loaded.where);
  if (!specs) return specs.error();
  if (specs->empty()) return core::InvalidArgument(loaded.where + ": declares no deployment");
  if (executable && !IsSpecFileName(path)) {
    // A program's bundle holds the program itself unless its spec lists files.
    for (auto& s : *specs) {
      if (s.include.empty()) s.include.push_back(abs.filename().string());
    }
  }
  loaded.specs = std::move(*specs);
  return loaded;
}

std::string SpecWhere(const Loaded& l, std::size_t i) {
  return l.specs.size() == 1 ? l.where : fmt::format("{}: deployments[{}]", l.where, i);
}

// ---- spec -> proto -----------------------------------------------------------------------

std::string DescribeSchedule(const std::optional<core::ScheduleSpec>& s) {
  if (!s) return "none (runs only when asked: weft deployment run)";
  auto compiled = core::Schedule::Compile(*s);
  if (!compiled) return "invalid: " + compiled.error().message;
  return compiled->Describe();
}

std::string ScheduleText(const v1::Deployment& d) {
  if (!d.schedule_description().empty()) return d.schedule_description();
  return d.spec().has_schedule() ? "?" : "none";
}

v1::DeploymentRef Ref(const std::string& name) {
  v1::DeploymentRef ref;
  if (name.find('/') != std::string::npos) {
    ref.set_full_name(name);
  } else {
    ref.set_id(name);
  }
  return ref;
}

core::Status CheckRefArg(const std::string& name) {
  if (name.empty()) return core::InvalidArgument("deployment: give it as FLOW/NAME");
  return {};
}

struct Plan {
  core::DeploymentSpec spec;
  std::string where;
  std::string storage;  // resolved name ("" = no bundle and no storage)
  std::optional<client::PackedBundle> bundle;
};

class TempDirectory {
 public:
  TempDirectory() {
    std::string tmpl = (fs::temp_directory_path() / "weft-deploy-XXXXXX").string();
    if (::mkdtemp(tmpl.data())) path_ = tmpl;
  }
  ~TempDirectory() {
    std::error_code ec;
    if (!path_.empty()) fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

}  // namespace

int DeploymentCreate(const Globals& g, const std::string& file, bool dry_run) {
  auto loaded = LoadSpecs(file);
  if (!loaded) return Fail(loaded.error());

  // 1. Everything that needs no server: each spec on its own, then names unique.
  std::vector<Plan> plans;
  std::set<std::string> seen;
  for (std::size_t i = 0; i < loaded->specs.size(); ++i) {
    Plan p{loaded->specs[i], SpecWhere(*loaded, i), "", std::nullopt};
    if (auto s = core::ValidateDeploymentSpec(p.spec, p.where); !s) return Fail(s.error());
    if (!seen.insert(p.spec.FullName()).second) {
      return Fail(
          fmt::format("{}: deployment \"{}\" is declared twice", p.where, p.spec.FullName()));
    }
    plans.push_back(std::move(p));
  }

  // 2. Storages: each named one must exist; bundles without a name go to the default.
  client::Client c(g.api);
  v1::ListStoragesRequest lreq;
  lreq.mutable_page()->set_limit(1000);
  auto storages = c.ListStorages(lreq);
  if (!storages) return Fail(storages.error());
  std::map<std::string, v1::Storage> by_name;
  std::string default_storage;
  for (const auto& s : storages->storages()) {
    by_name[s.name()] = s;
    if (s.is_default()) default_storage = s.name();
  }
  for (auto& p : plans) {
    if (!p.spec.storage.empty()) {
      if (!by_name.count(p.spec.storage)) {
        std::vector<std::string> known;
        for (const auto& [n, s] : by_name) known.push_back(n);
        return Fail(fmt::format("{}: storage: unknown storage \"{}\" ({})", p.where, p.spec.storage,
                                known.empty() ? "no storage exists yet; create one with "
                                                "'weft storage create'"
                                              : "known: " + Join(known, ", ")));
      }
      p.storage = p.spec.storage;
    } else if (!p.spec.include.empty()) {
      if (default_storage.empty()) {
        return Fail(fmt::format(
            "{}: storage: not given and there is no default storage (create one with "
            "'weft storage create local --name N --path P --default', or name one in the spec)",
            p.where));
      }
      p.storage = default_storage;
    }
  }

  // 3. Pack every bundle before anything is stored or created.
  TempDirectory tmp;
  if (tmp.path().empty()) return Fail("cannot create a temporary directory");
  for (std::size_t i = 0; i < plans.size(); ++i) {
    auto& p = plans[i];
    if (p.spec.include.empty()) continue;
    auto b = client::PackBundle(loaded->base_dir.string(), p.spec.include,
                                (tmp.path() / fmt::format("bundle-{}.tar.gz", i)).string());
    if (!b) return Fail(core::Error{b.error().code, p.where + ": " + b.error().message});
    // A command that is not in the bundle would only fail later, on an agent, as a crash.
    if (std::string problem = client::EntrypointProblem(p.spec.entrypoint.front(), b->files);
        !problem.empty()) {
      return Fail(p.where + ": entrypoint: " + problem);
    }
    p.bundle = std::move(*b);
  }

  if (dry_run) {
    for (const auto& p : plans) {
      std::cout << "Would create or update deployment " << p.spec.FullName() << "\n";
      if (p.bundle) {
        std::cout << "  bundle:      " << p.bundle->digest << " ("
                  << client::FormatBytes(p.bundle->size) << ", " << p.bundle->files.size()
                  << " files) in storage " << p.storage << "\n";
        for (const auto& f : p.bundle->files) std::cout << "                 " << f << "\n";
      } else {
        std::cout << "  bundle:      none (no include)\n";
      }
      std::cout << "  entrypoint:  " << Join(p.spec.entrypoint, " ") << "\n"
                << "  schedule:    " << DescribeSchedule(p.spec.schedule) << "\n"
                << "  work queue:  " << p.spec.work_queue << "\n";
    }
    std::cout << "Dry run: nothing was uploaded or created.\n";
    return 0;
  }

  // 4. Upload what the store does not have yet.
  std::map<std::string, std::string> upload_note;  // digest -> "uploaded" | "already stored"
  for (const auto& p : plans) {
    if (!p.bundle) continue;
    std::string key = p.storage + "|" + p.bundle->digest;
    if (upload_note.count(key)) continue;
    auto store = client::storage::OpenBundleStore(by_name[p.storage], c);
    if (!store)
      return Fail(core::Error{store.error().code, p.where + ": " + store.error().message});
    auto exists = (*store)->Exists(p.bundle->digest);
    if (!exists) {
      return Fail(
          fmt::format("{}: storage \"{}\": {}", p.where, p.storage, exists.error().message));
    }
    if (*exists) {
      upload_note[key] = "already stored";
      continue;
    }
    if (auto s = (*store)->Put(p.bundle->digest, p.bundle->path); !s) {
      return Fail(fmt::format("{}: storage \"{}\": {}", p.where, p.storage, s.error().message));
    }
    upload_note[key] = "uploaded";
  }

  // 5. Register the deployments.
  std::vector<v1::CreateDeploymentResponse> created;
  for (const auto& p : plans) {
    v1::CreateDeploymentRequest req;
    *req.mutable_spec() = client::ToProto(p.spec);
    if (p.bundle) {
      auto* b = req.mutable_spec()->mutable_bundle();
      b->set_storage(p.storage);
      b->set_digest(p.bundle->digest);
      b->set_size(p.bundle->size);
    } else if (!p.storage.empty()) {
      req.mutable_spec()->mutable_bundle()->set_storage(p.storage);
    }
    auto resp = c.CreateDeployment(req);
    if (!resp) return Fail(core::Error{resp.error().code, p.where + ": " + resp.error().message});
    created.push_back(*resp);
  }

  if (g.format == Format::kJson) {
    std::cout << "[\n";
    for (std::size_t i = 0; i < created.size(); ++i) {
      if (i) std::cout << ",\n";
      output::PrintJson(std::cout, created[i]);
    }
    std::cout << "]\n";
    return 0;
  }
  for (std::size_t i = 0; i < created.size(); ++i) {
    const auto& r = created[i];
    const auto& d = r.deployment();
    const auto& p = plans[i];
    std::cout << (r.created() ? "Created" : "Updated") << " deployment " << p.spec.FullName()
              << " (" << d.id() << ")\n";
    if (p.bundle) {
      std::cout << "  bundle:      " << p.bundle->digest << " ("
                << client::FormatBytes(p.bundle->size) << ", " << p.bundle->files.size()
                << (p.bundle->files.size() == 1 ? " file" : " files") << ") in storage "
                << p.storage << ", " << upload_note[p.storage + "|" + p.bundle->digest] << "\n";
    }
    std::cout << "  entrypoint:  " << Join(p.spec.entrypoint, " ") << "\n"
              << "  schedule:    " << ScheduleText(d) << (d.paused() ? " (paused)" : "") << "\n"
              << "  work queue:  " << d.spec().work_queue() << "\n";
    if (!r.created() && r.replaced_runs() > 0) {
      std::cout << "  replaced " << r.replaced_runs()
                << " future scheduled runs that no longer match the schedule\n";
    }
  }
  return 0;
}

int DeploymentLs(const Globals& g, const std::string& flow) {
  client::Client c(g.api);
  v1::ListDeploymentsRequest req;
  req.mutable_page()->set_limit(1000);
  req.set_flow_name(flow);
  auto resp = c.ListDeployments(req);
  if (!resp) return Fail(resp.error());
  if (g.format == Format::kJson) {
    output::PrintJson(std::cout, *resp);
    return 0;
  }
  output::Table t({"NAME", "SCHEDULE", "STATUS", "WORK QUEUE", "STORAGE", "UPDATED"});
  for (const auto& d : resp->deployments()) {
    t.AddRow({d.spec().flow_name() + "/" + d.spec().name(), ScheduleText(d),
              d.paused() ? "paused" : "active", d.spec().work_queue(), d.spec().bundle().storage(),
              ShortTime(d.updated())});
  }
  t.Print(std::cout);
  return 0;
}

int DeploymentInspect(const Globals& g, const std::string& name) {
  if (auto s = CheckRefArg(name); !s) return Fail(s.error());
  client::Client c(g.api);
  v1::GetDeploymentRequest req;
  *req.mutable_ref() = Ref(name);
  auto resp = c.GetDeployment(req);
  if (!resp) return Fail(resp.error());
  const auto& d = resp->deployment();
  if (g.format == Format::kJson) {
    output::PrintJson(std::cout, d);
    return 0;
  }
  const auto& s = d.spec();
  std::vector<std::string> tags(s.tags().begin(), s.tags().end());
  std::vector<std::string> entry(s.entrypoint().begin(), s.entrypoint().end());
  std::cout << "Deployment " << s.flow_name() << "/" << s.name() << " (" << d.id() << ")\n";
  if (!s.description().empty()) std::cout << "  description: " << s.description() << "\n";
  if (!s.version().empty()) std::cout << "  version:     " << s.version() << "\n";
  std::cout << "  status:      " << (d.paused() ? "paused" : "active") << "\n"
            << "  schedule:    " << ScheduleText(d) << "\n"
            << "  catch-up:    "
            << (s.catchup().policy().empty() ? "latest" : s.catchup().policy());
  if (s.catchup().max_lateness_seconds() > 0) {
    std::cout << " (max lateness " << core::FormatDuration(s.catchup().max_lateness_seconds())
              << ")";
  }
  std::cout << "\n"
            << "  entrypoint:  " << Join(entry, " ") << "\n"
            << "  bundle:      "
            << (s.bundle().digest().empty()
                    ? std::string("none")
                    : s.bundle().digest() + " (" + client::FormatBytes(s.bundle().size()) + ")")
            << "\n"
            << "  storage:     " << (s.bundle().storage().empty() ? "-" : s.bundle().storage())
            << "\n"
            << "  parameters:  " << (s.parameters_json().empty() ? "{}" : s.parameters_json())
            << "\n"
            << "  tags:        " << Join(tags, ", ") << "\n"
            << "  work queue:  " << s.work_queue() << "\n"
            << "  runner:      " << (s.runner().type().empty() ? "process" : s.runner().type());
  if (!s.runner().image().empty()) std::cout << " image=" << s.runner().image();
  if (!s.runner().namespace_().empty()) std::cout << " namespace=" << s.runner().namespace_();
  if (!s.runner().network().empty()) std::cout << " network=" << s.runner().network();
  std::cout << "\n";
  if (!s.runner().env().empty()) {
    std::map<std::string, std::string> env(s.runner().env().begin(), s.runner().env().end());
    std::cout << "  env:\n";
    for (const auto& [k, v] : env) std::cout << "    " << k << "=" << v << "\n";
  }
  std::cout << "  created:     " << ShortTime(d.created()) << "\n"
            << "  updated:     " << ShortTime(d.updated()) << "\n";
  if (d.has_last_scheduled_time()) {
    std::cout << "  scheduled up to: " << ShortTime(d.last_scheduled_time()) << "\n";
  }
  return 0;
}

int DeploymentRun(const Globals& g, const DeploymentRunOptions& o) {
  if (auto s = CheckRefArg(o.name); !s) return Fail(s.error());
  v1::RunDeploymentRequest req;
  *req.mutable_ref() = Ref(o.name);
  json params = json::object();
  for (const auto& kv : o.params) {
    auto eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) {
      return Fail("--param: expected NAME=VALUE, got \"" + kv + "\"");
    }
    std::string key = kv.substr(0, eq);
    std::string text = kv.substr(eq + 1);
    // JSON when it reads as JSON (numbers, true/false, lists, objects, "quoted"), else text.
    if (auto st = core::CheckJsonText(text, "--param " + key); !st.ok()) return Fail(st.error());
    // Text that starts like an object or a list must be one: `x={bad` is a mistake, not the
    // string "{bad" (which is written x='"{bad"').
    std::string_view start = text;
    while (!start.empty() && std::isspace(static_cast<unsigned char>(start.front()))) {
      start.remove_prefix(1);
    }
    if (!start.empty() && (start.front() == '{' || start.front() == '[')) {
      try {
        params[key] = json::parse(text);
      } catch (const json::exception& e) {
        std::string why = e.what();
        if (auto close = why.find("] ");
            why.rfind("[json.exception", 0) == 0 && close != std::string::npos) {
          why = why.substr(close + 2);
        }
        return Fail(fmt::format(
            "--param {}: not valid JSON for {}: {} (to pass it as text, quote it: {}='\"...\"')",
            key, start.front() == '{' ? "an object" : "a list", why, key));
      }
      continue;
    }
    json value = json::parse(text, nullptr, false);
    params[key] = value.is_discarded() || value.is_null() ? json(text) : value;
  }
  if (!o.params.empty()) req.set_parameters_json(params.dump());
  if (!o.start_in.empty() && !o.start_at.empty()) {
    return Fail("--start-in and --start-at: give only one");
  }
  if (!o.start_in.empty()) {
    if (core::IsNegativeDuration(o.start_in)) {
      return Fail("--start-in: must not be negative, got \"" + o.start_in + "\"");
    }
    auto secs = core::ParseDurationSeconds(o.start_in);
    if (!secs || *secs < 0) {
      return Fail("--start-in: expected a duration like 10m, 2h or 90s, got \"" + o.start_in +
                  "\"");
    }
    *req.mutable_start_time() =
        client::ToProto(core::SystemClock().Now() + core::FromSeconds(*secs));
  } else if (!o.start_at.empty()) {
    auto t = core::ParseTime(o.start_at);
    if (!t) {
      return Fail("--start-at: expected a time like 2026-05-01T09:00:00Z, got \"" + o.start_at +
                  "\"");
    }
    *req.mutable_start_time() = client::ToProto(*t);
  }
  for (const auto& t : o.tags) req.add_tags(t);
  client::Client c(g.api);
  auto resp = c.RunDeployment(req);
  if (!resp) return Fail(resp.error());
  if (g.format == Format::kJson) {
    output::PrintJson(std::cout, *resp);
    return 0;
  }
  const auto& r = resp->flow_run();
  const auto& when =
      r.state().has_scheduled_time() ? r.state().scheduled_time() : r.expected_start_time();
  std::cout << "Created flow run " << r.name() << " (" << r.id() << ") of deployment " << o.name
            << "\n"
            << "  id:          " << r.id() << "\n"
            << "  state:       " << r.state().name() << "\n"
            << "  scheduled:   " << ShortTime(when) << " UTC\n"
            << "  parameters:  " << (r.parameters_json().empty() ? "{}" : r.parameters_json())
            << "\n";
  if (!r.work_queue().empty()) std::cout << "  work queue:  " << r.work_queue() << "\n";
  return 0;
}

int DeploymentSetPaused(const Globals& g, const std::string& name, bool paused) {
  if (auto s = CheckRefArg(name); !s) return Fail(s.error());
  client::Client c(g.api);
  v1::SetDeploymentPausedRequest req;
  *req.mutable_ref() = Ref(name);
  req.set_paused(paused);
  auto resp = c.SetDeploymentPaused(req);
  if (!resp) return Fail(resp.error());
  if (g.format == Format::kJson) {
    output::PrintJson(std::cout, *resp);
    return 0;
  }
  if (paused) {
    std::cout << "Paused deployment " << name
              << ": no new runs are scheduled and its future scheduled runs were removed\n";
  } else {
    std::cout << "Resumed deployment " << name << ": " << ScheduleText(resp->deployment()) << "\n";
  }
  return 0;
}

int DeploymentDelete(const Globals& g, const std::string& name) {
  if (auto s = CheckRefArg(name); !s) return Fail(s.error());
  client::Client c(g.api);
  v1::DeleteDeploymentRequest req;
  *req.mutable_ref() = Ref(name);
  auto resp = c.DeleteDeployment(req);
  if (!resp) return Fail(resp.error());
  std::cout << "Deleted deployment " << name;
  if (resp->deleted_runs() > 0) {
    std::cout << " and its " << resp->deleted_runs() << " scheduled runs";
  }
  std::cout << "\n";
  return 0;
}

int DeploymentUpcoming(const Globals& g, const std::string& name, int limit) {
  if (auto s = CheckRefArg(name); !s) return Fail(s.error());
  client::Client c(g.api);
  v1::ListUpcomingRunsRequest req;
  *req.mutable_ref() = Ref(name);
  req.set_limit(limit);
  auto resp = c.ListUpcomingRuns(req);
  if (!resp) return Fail(resp.error());
  if (g.format == Format::kJson) {
    output::PrintJson(std::cout, *resp);
    return 0;
  }
  output::Table t({"SCHEDULED (UTC)", "NAME", "STATE", "ORIGIN", "ID"});
  for (const auto& r : resp->flow_runs()) {
    const auto& when =
        r.state().has_scheduled_time() ? r.state().scheduled_time() : r.expected_start_time();
    t.AddRow({ShortTime(when), r.name(), r.state().name(),
              r.auto_scheduled() ? "schedule" : "manual", r.id()});
  }
  if (t.empty()) {
    std::cout << "No upcoming runs for " << name << "\n";
    return 0;
  }
  t.Print(std::cout);
  return 0;
}

int DeploymentBackfill(const Globals& g, const std::string& name, const std::string& from,
                       const std::string& to) {
  if (auto s = CheckRefArg(name); !s) return Fail(s.error());
  auto f = core::ParseTime(from);
  if (!f) return Fail("--from: expected a time like 2026-05-01T00:00:00Z, got \"" + from + "\"");
  auto t = core::ParseTime(to);
  if (!t) return Fail("--to: expected a time like 2026-05-08T00:00:00Z, got \"" + to + "\"");
  if (*t < *f) return Fail("--to: must not be before --from");
  client::Client c(g.api);
  v1::BackfillRequest req;
  *req.mutable_ref() = Ref(name);
  *req.mutable_from() = client::ToProto(*f);
  *req.mutable_to() = client::ToProto(*t);
  auto resp = c.Backfill(req);
  if (!resp) return Fail(resp.error());
  if (g.format == Format::kJson) {
    output::PrintJson(std::cout, *resp);
    return 0;
  }
  std::cout << "Backfilled " << name << " from " << core::FormatTime(*f) << " to "
            << core::FormatTime(*t) << ": " << resp->created() << " runs created, "
            << resp->existing() << " already existed\n";
  output::Table table({"SCHEDULED (UTC)", "NAME", "STATE", "ID"});
  for (const auto& r : resp->flow_runs()) {
    const auto& when =
        r.state().has_scheduled_time() ? r.state().scheduled_time() : r.expected_start_time();
    table.AddRow({ShortTime(when), r.name(), r.state().name(), r.id()});
  }
  if (!table.empty()) table.Print(std::cout);
  return 0;
}

}  // namespace weft::cli
