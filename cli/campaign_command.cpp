// `updraft campaign create|start|pause|resume|abort|list|status`: rolling a
// release out to a fleet in phases, and watching it happen. `status --watch`
// follows the server's live events (GET /api/v1/events).
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "cli/commands.h"
#include "cli/server_connection.h"
#include "cli/table.h"

namespace updraft::cli {
namespace {

using net::http::Method;

struct CampaignArgs {
  long long id = 0;
  // create
  long long release = 0;
  std::string name;
  std::vector<std::string> phases, hardware, versions, tags, devices;
  double success_threshold = 0.9;
  double failure_threshold = 0.2;
  std::string window, timezone = "UTC";
  std::uint32_t max_downloads = 0;
  bool force = false;
  bool allow_downgrade = false;
  bool start = false;
  std::string start_at;
  std::uint32_t deployment_timeout = 0;
  bool dynamic = false;
  // list
  std::size_t limit = 100, offset = 0;
  // status
  bool watch = false;
  bool json_output = false;
};

// A --phase: "N%" of the targeted devices, or a plain count N.
std::optional<json> parse_phase(std::string_view text) {
  const bool percent = text.ends_with('%');
  if (percent) text.remove_suffix(1);
  std::uint32_t amount = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), amount);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return percent ? json{{"percent", amount}} : json{{"count", amount}};
}

bool is_finished(const json& progress) {
  const std::string state = progress.at("state").get<std::string>();
  return state == "completed" || state == "aborted";
}

std::string state_text(const json& progress) {
  std::string state = progress.at("state").get<std::string>();
  const std::string reason = progress.value("pause_reason", std::string());
  if (state == "paused" && !reason.empty()) state += " (" + reason + ")";
  return state;
}

// Deployment states in the order a deployment goes through them.
constexpr const char* kStates[] = {"scheduled",   "pending",  "downloading", "installing",
                                   "rebooting",   "deferred", "succeeded",   "failed",
                                   "rolled_back", "canceled"};
// Those of a released deployment that has not finished.
constexpr const char* kUnderWay[] = {"pending", "downloading", "installing", "rebooting",
                                     "deferred"};

// "campaign 3 "spring": running, phase 2/3, 22/100 succeeded, 1 failed, 5 under way"
std::string summary_line(const json& progress) {
  std::size_t succeeded = 0, failed = 0, under_way = 0;
  for (const json& phase : progress.at("phase_progress")) {
    succeeded += phase.at("succeeded").get<std::size_t>();
    failed += phase.at("failed").get<std::size_t>();
  }
  const json& by_state = progress.at("deployments").at("by_state");
  for (const char* state : kUnderWay) under_way += by_state.value(state, std::size_t{0});
  char line[512];
  std::snprintf(
      line, sizeof line,
      "campaign %lld \"%s\": %s, phase %u/%zu, %zu/%zu succeeded, %zu failed, %zu under way",
      progress.at("id").get<long long>(), progress.at("name").get<std::string>().c_str(),
      state_text(progress).c_str(), progress.at("current_phase").get<unsigned>() + 1,
      progress.at("phases").size(), succeeded,
      progress.at("deployments").at("total").get<std::size_t>(), failed, under_way);
  return line;
}

// [####x---......]: succeeded, failed, released and not finished, not yet released.
std::string progress_bar(std::size_t devices, std::size_t succeeded, std::size_t failed,
                         std::size_t released) {
  constexpr std::size_t kWidth = 30;
  const auto cells = [devices](std::size_t n) {
    return devices == 0 ? 0 : (n * kWidth + devices / 2) / devices;
  };
  const std::size_t done = cells(succeeded), broken = cells(succeeded + failed),
                    out = cells(released);
  std::string bar = "[";
  for (std::size_t i = 0; i < kWidth; ++i)
    bar += i < done ? '#' : i < broken ? 'x' : i < out ? '-' : '.';
  return bar + "]";
}

// The full status: headline, a bar per phase, deployments by state.
std::vector<std::string> status_lines(const json& progress) {
  std::vector<std::string> lines;
  const json& phases = progress.at("phases");
  const json& phase_progress = progress.at("phase_progress");
  const unsigned current = progress.at("current_phase").get<unsigned>();
  char line[512];
  std::snprintf(line, sizeof line, "campaign %lld \"%s\": %s, release %lld",
                progress.at("id").get<long long>(), progress.at("name").get<std::string>().c_str(),
                state_text(progress).c_str(), progress.at("release").get<long long>());
  lines.emplace_back(line);
  for (std::size_t i = 0; i < phase_progress.size(); ++i) {
    const json& p = phase_progress[i];
    const auto devices = p.at("devices").get<std::size_t>(),
               succeeded = p.at("succeeded").get<std::size_t>(),
               failed = p.at("failed").get<std::size_t>(),
               released = p.at("released").get<std::size_t>();
    const std::string spec = i >= phases.size() ? std::string()
                             : phases[i].contains("percent")
                                 ? std::to_string(phases[i].at("percent").get<unsigned>()) + "%"
                                 : std::to_string(phases[i].at("count").get<unsigned>()) + " dev";
    std::snprintf(line, sizeof line,
                  "%s phase %zu/%zu %-7s %s %4zu/%zu succeeded, %zu failed, %zu released",
                  i == current ? ">" : " ", i + 1, phase_progress.size(), spec.c_str(),
                  progress_bar(devices, succeeded, failed, released).c_str(), succeeded, devices,
                  failed, released);
    lines.emplace_back(line);
  }
  const json& deployments = progress.at("deployments");
  const json& by_state = deployments.at("by_state");
  std::string counts;
  for (const char* state : kStates) {
    if (!by_state.contains(state)) continue;
    counts += (counts.empty() ? "" : ", ") + std::string(state) + " " +
              std::to_string(by_state[state].get<std::size_t>());
  }
  lines.push_back("deployments: " + std::to_string(deployments.at("total").get<std::size_t>()) +
                  (counts.empty() ? "" : " (" + counts + ")"));
  lines.emplace_back("bars: # succeeded  x failed  - released, not finished  . not released yet");
  return lines;
}

std::string campaign_path(long long id) { return "/api/v1/campaigns/" + std::to_string(id); }

HostResult<void> create_campaign(ServerConnection& server, const CampaignArgs& args) {
  json body = {{"name", args.name},
               {"release", args.release},
               {"target",
                {{"hardware", args.hardware},
                 {"versions", args.versions},
                 {"tags", args.tags},
                 {"devices", args.devices}}},
               {"success_threshold", args.success_threshold},
               {"failure_threshold", args.failure_threshold},
               {"max_concurrent_downloads", args.max_downloads},
               {"force", args.force},
               {"allow_downgrade", args.allow_downgrade},
               {"deployment_timeout_seconds", args.deployment_timeout},
               {"dynamic", args.dynamic}};
  if (!args.start_at.empty()) {
    UPDRAFT_TRY_ASSIGN(const long long at, parse_utc_time(args.start_at, "--start-at"));
    body["start_at"] = at;
  }
  if (!args.phases.empty()) {
    json phases = json::array();
    for (const std::string& p : args.phases)
      phases.push_back(*parse_phase(p));  // checked by the option
    body["phases"] = phases;
  }
  if (!args.window.empty()) {
    const std::size_t dash = args.window.find('-');  // the option checked there is one
    body["window"] = {{"start", args.window.substr(0, dash)},
                      {"end", args.window.substr(dash + 1)},
                      {"timezone", args.timezone}};
  }
  UPDRAFT_TRY_ASSIGN(json progress, server.send(Method::kPost, "/api/v1/campaigns", body));
  const long long id = progress.at("id").get<long long>();
  std::printf("campaign %lld: %zu devices in %zu phase(s)\n", id,
              progress.at("deployments").at("total").get<std::size_t>(),
              progress.at("phases").size());
  // Devices the target matched but the server left out, and why.
  if (progress.contains("excluded")) {
    const json& ex = progress["excluded"];
    const auto n = [&ex](const char* key) { return ex.value(key, std::size_t{0}); };
    if (n("busy") + n("hardware") + n("downgrade") + n("security_counter") > 0) {
      std::printf(
          "  excluded: %zu in another deployment, %zu other hardware, %zu downgrade, "
          "%zu below security counter\n",
          n("busy"), n("hardware"), n("downgrade"), n("security_counter"));
    }
  }
  if (!args.start) {
    const long long at = progress.value("start_at", 0LL);
    if (at != 0) {
      std::printf("  (a draft that starts itself at %s)\n", utc_time(at).c_str());
    } else {
      std::printf("  (a draft: start it with `updraft campaign start %lld`)\n", id);
    }
    return {};
  }
  UPDRAFT_TRY_ASSIGN(progress, server.send(Method::kPost, campaign_path(id) + "/start", nullptr));
  std::printf("%s\n", summary_line(progress).c_str());
  return {};
}

HostResult<void> campaign_action(ServerConnection& server, long long id, const char* action,
                                 const json& body) {
  UPDRAFT_TRY_ASSIGN(const json progress,
                     server.send(Method::kPost, campaign_path(id) + "/" + action, body));
  std::printf("%s\n", summary_line(progress).c_str());
  return {};
}

HostResult<void> list_campaigns(ServerConnection& server, const CampaignArgs& args) {
  UPDRAFT_TRY_ASSIGN(const json answer,
                     server.get("/api/v1/campaigns?limit=" + std::to_string(args.limit) +
                                "&offset=" + std::to_string(args.offset)));
  std::vector<std::vector<std::string>> rows;
  for (const json& c : answer.at("campaigns")) {
    std::size_t succeeded = 0, failed = 0;
    for (const json& phase : c.value("phase_progress", json::array())) {
      succeeded += phase.at("succeeded").get<std::size_t>();
      failed += phase.at("failed").get<std::size_t>();
    }
    const std::size_t total =
        c.contains("deployments") ? c["deployments"].at("total").get<std::size_t>() : 0;
    rows.push_back({std::to_string(c.at("id").get<long long>()), c.at("name").get<std::string>(),
                    std::to_string(c.at("release").get<long long>()), state_text(c),
                    std::to_string(c.at("current_phase").get<unsigned>() + 1) + "/" +
                        std::to_string(c.at("phases").size()),
                    std::to_string(total), std::to_string(succeeded), std::to_string(failed),
                    time_ago(c.value("created_at", std::int64_t{0}))});
  }
  print_table(
      {"ID", "NAME", "RELEASE", "STATE", "PHASE", "DEVICES", "SUCCEEDED", "FAILED", "CREATED"},
      rows);
  print_page_note(args.offset, rows.size(), answer.value("total", rows.size()));
  return {};
}

// Prints a campaign's status as it changes: redrawn in place on a terminal, a line
// per change otherwise (or a JSON object per line with --json).
class StatusView {
 public:
  explicit StatusView(bool json_output)
      : json_(json_output), tty_(!json_output && isatty(1) != 0) {}

  void show(const json& progress) {
    std::string text = json_ ? progress.dump() : tty_ ? "" : summary_line(progress);
    std::vector<std::string> lines;
    if (tty_) {
      lines = status_lines(progress);
      for (const std::string& line : lines) text += line + "\n";
    }
    if (text == last_) return;
    if (tty_ && printed_lines_ > 0)
      std::printf("\x1b[%zuF\x1b[J", printed_lines_);  // back up and clear
    std::fputs(text.c_str(), stdout);
    if (!tty_) std::fputc('\n', stdout);
    std::fflush(stdout);
    printed_lines_ = lines.size();
    last_ = std::move(text);
  }

 private:
  bool json_;
  bool tty_;
  std::size_t printed_lines_ = 0;
  std::string last_;
};

long long int_field(const json& j, const char* key) {
  const auto it = j.find(key);
  return it != j.end() && it->is_number_integer() ? it->get<long long>() : 0;
}

// Redraws on each of the campaign's events until it completes or is aborted (or
// Ctrl-C ends the process). Events arrive on a second connection read by its own
// thread; this one fetches the status at most every kMinRedraw, so a burst of
// deployment events costs one request.
HostResult<void> watch_campaign(ServerConnection& server, const ServerOptions& options,
                                const CampaignArgs& args) {
  constexpr auto kMinRedraw = std::chrono::milliseconds(250);
  // Without events the status is fetched now and then anyway: a campaign that
  // finished before the stream was subscribed sends no more events.
  constexpr auto kQuietRefresh = std::chrono::seconds(5);
  StatusView view(args.json_output);
  UPDRAFT_TRY_ASSIGN(json progress, server.get(campaign_path(args.id)));
  view.show(progress);
  if (is_finished(progress)) return {};

  // The server sends a heartbeat on idle streams every 15 s.
  UPDRAFT_TRY_ASSIGN(ServerConnection events,
                     ServerConnection::open(options, std::chrono::seconds(60)));
  std::mutex mutex;
  std::condition_variable changed;
  bool dirty = false, ended = false;
  Error stream_error(ErrorCode::kTransportFailed, "the event stream ended");
  // Its destructor asks it to stop and joins. The reader notices at its next event
  // or heartbeat, so leaving is prompt only when the campaign's final event ended
  // the stream; after a failed request or a finish seen without it, this waits up
  // to a heartbeat.
  std::jthread reader([&](std::stop_token stop) {
    HostResult<void> r = events.follow_events([&](const std::string& type, const json& data) {
      const bool ours = (type == "campaign" && int_field(data, "id") == args.id) ||
                        (type == "deployment" && int_field(data, "campaign") == args.id);
      const auto state = data.find("state");
      const bool final_event = ours && type == "campaign" && state != data.end() &&
                               (*state == "completed" || *state == "aborted");
      if (ours) {
        std::lock_guard lock(mutex);
        dirty = true;
        changed.notify_one();
      }
      return !final_event && !stop.stop_requested();
    });
    std::lock_guard lock(mutex);
    ended = true;
    if (!r.ok()) stream_error = r.error();
    changed.notify_one();
  });

  for (;;) {
    bool stream_ended = false;
    {
      std::unique_lock lock(mutex);
      changed.wait_for(lock, kQuietRefresh, [&] { return dirty || ended; });
      dirty = false;
      stream_ended = ended;
    }
    UPDRAFT_TRY_ASSIGN(progress, server.get(campaign_path(args.id)));
    view.show(progress);
    if (is_finished(progress)) return {};
    if (stream_ended) {
      std::lock_guard lock(mutex);
      return stream_error;
    }
    std::this_thread::sleep_for(kMinRedraw);  // events meanwhile make one redraw
  }
}

HostResult<void> campaign_status(ServerConnection& server, const ServerOptions& options,
                                 const CampaignArgs& args) {
  if (args.watch) return watch_campaign(server, options, args);
  UPDRAFT_TRY_ASSIGN(const json progress, server.get(campaign_path(args.id)));
  if (args.json_output) {
    std::printf("%s\n", progress.dump(2).c_str());
    return {};
  }
  for (const std::string& line : status_lines(progress)) std::printf("%s\n", line.c_str());
  return {};
}

}  // namespace

void add_campaign_command(CLI::App& app, int& exit_code) {
  CLI::App* group =
      app.add_subcommand("campaign", "Roll a release out to devices in phases, and follow it");
  group->require_subcommand(1);
  auto args = std::make_shared<CampaignArgs>();
  const auto run = [&exit_code](const ServerOptions& server,
                                std::function<HostResult<void>(ServerConnection&)> command) {
    exit_code = run_with_server(server, command);
  };

  CLI::App* create = group->add_subcommand("create",
                                           "Create a campaign: the product's devices that match "
                                           "every given filter get the release, phase by phase. "
                                           "Devices in another unfinished campaign are left out.");
  create->add_option("--release", args->release, "Release id (see `updraft release list`)")
      ->required();
  create->add_option("--name", args->name, "Campaign name")->required();
  create
      ->add_option("--phase", args->phases,
                   "Cumulative size of each phase: N% of the targeted devices, or a count N; "
                   "repeat in order "
                   "(e.g. --phase 10% --phase 50% --phase 100%). Default: one phase with everyone")
      ->check(CLI::Validator(
          [](std::string& text) {
            return parse_phase(text) ? std::string() : "give N% or a count N";
          },
          "N%|N"));
  create->add_option("--hardware", args->hardware,
                     "Only devices of this hardware revision; repeat for more");
  create->add_option("--version", args->versions,
                     "Only devices running this version; repeat for more");
  create->add_option("--tag", args->tags, "Only devices with this tag; repeat for more");
  create->add_option("--device", args->devices, "Only this device; repeat for more");
  create
      ->add_option("--success-threshold", args->success_threshold,
                   "Share of a phase's devices that must succeed before the next phase starts")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
  create
      ->add_option("--failure-threshold", args->failure_threshold,
                   "Share of released devices failing that pauses the campaign")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
  CLI::Option* window =
      create
          ->add_option("--window", args->window,
                       "Daily maintenance window HH:MM-HH:MM; may wrap past midnight")
          ->check(CLI::Validator(
              [](std::string& text) {
                return text.size() == 11 && text[5] == '-' ? std::string() : "give HH:MM-HH:MM";
              },
              "HH:MM-HH:MM"));
  create->add_option("--timezone", args->timezone, "IANA time zone of --window, e.g. Europe/Berlin")
      ->capture_default_str()
      ->needs(window);
  create
      ->add_option("--max-downloads", args->max_downloads,
                   "Devices downloading at once; 0: no limit")
      ->capture_default_str();
  create->add_flag("--force", args->force, "Install without asking the device's user to confirm");
  create->add_flag("--allow-downgrade", args->allow_downgrade,
                   "Offer the release to devices running a newer version too (the release's "
                   "manifest must allow it; never below its security counter)");
  create->add_flag("--start", args->start,
                   "Start the campaign right away (otherwise it stays a draft)");
  create->add_option("--start-at", args->start_at,
                     "Start the draft by itself at this time: \"YYYY-MM-DD HH:MM\" (UTC) or Unix "
                     "seconds");
  create
      ->add_option("--deployment-timeout", args->deployment_timeout,
                   "Seconds without news from a downloading or installing device after which "
                   "its deployment fails (error 550); 0: never")
      ->capture_default_str();
  create->add_flag("--dynamic", args->dynamic,
                   "Devices that register, or start running a matching version, while the "
                   "campaign runs join it at their check-in; it never completes by itself");
  create->callback([args, run, server = add_server_options(*create)] {
    run(*server, [args](ServerConnection& s) { return create_campaign(s, *args); });
  });

  const struct {
    const char* name;
    const char* help;
  } actions[] = {
      {"start", "Start a draft campaign: its first phase is released at once (within its window)"},
      {"pause", "Pause a campaign: no more devices are released; those under way finish"},
      {"abort", "Abort a campaign: every deployment not yet finished is canceled"},
  };
  for (const auto& action : actions) {
    CLI::App* cmd = group->add_subcommand(action.name, action.help);
    cmd->add_option("ID", args->id, "Campaign id")->required();
    cmd->callback([args, run, server = add_server_options(*cmd), name = action.name] {
      run(*server, [args, name](ServerConnection& s) {
        return campaign_action(s, args->id, name, nullptr);
      });
    });
  }

  CLI::App* remove = group->add_subcommand(
      "delete", "Delete a draft campaign and its deployments (one that started stays: abort it)");
  remove->add_option("ID", args->id, "Campaign id")->required();
  remove->callback([args, run, server = add_server_options(*remove)] {
    run(*server, [args](ServerConnection& s) -> HostResult<void> {
      UPDRAFT_TRY_ASSIGN(
          const json gone,
          s.send(Method::kDelete, "/api/v1/campaigns/" + std::to_string(args->id), nullptr));
      std::printf("campaign %lld \"%s\" deleted\n", gone.at("id").get<long long>(),
                  gone.at("name").get<std::string>().c_str());
      return {};
    });
  });

  CLI::App* resume = group->add_subcommand("resume",
                                           "Resume a paused campaign. One that paused itself for "
                                           "failures needs a higher --failure-threshold");
  resume->add_option("ID", args->id, "Campaign id")->required();
  CLI::Option* threshold =
      resume->add_option("--failure-threshold", args->failure_threshold, "New failure threshold")
          ->check(CLI::Range(0.0, 1.0));
  resume->callback([args, run, threshold, server = add_server_options(*resume)] {
    const json body =
        threshold->count() > 0 ? json{{"failure_threshold", args->failure_threshold}} : json();
    run(*server,
        [args, body](ServerConnection& s) { return campaign_action(s, args->id, "resume", body); });
  });

  CLI::App* list = group->add_subcommand("list", "List campaigns with their state and progress");
  list->add_option("--limit", args->limit, "Campaigns to list, newest first (at most 1000)")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000));
  list->add_option("--offset", args->offset, "Skip this many newest campaigns");
  list->callback([args, run, server = add_server_options(*list)] {
    run(*server, [args](ServerConnection& s) { return list_campaigns(s, *args); });
  });

  CLI::App* status = group->add_subcommand(
      "status", "Show a campaign: state, progress of each phase, deployments by state");
  status->add_option("ID", args->id, "Campaign id")->required();
  status->add_flag(
      "--watch", args->watch,
      "Follow live events and redraw on each change (a line per change when not on a terminal) "
      "until the campaign completes or is aborted, or Ctrl-C");
  status->add_flag("--json", args->json_output,
                   "Print the server's JSON (with --watch: one object per line)");
  status->callback([args, run, server = add_server_options(*status)] {
    run(*server,
        [args, server](ServerConnection& s) { return campaign_status(s, *server, *args); });
  });
}

}  // namespace updraft::cli
