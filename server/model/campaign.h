// Campaigns and deployments: which devices get a release, in which phases, under
// which thresholds and windows, and where each device stands. Plain values; the
// rules that move them live in server/campaigns (pure functions of state and now).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "server/model/ids.h"

namespace updraft::server {

// Which devices a campaign targets. Every non-empty field must match (AND); within
// a field any listed value matches (OR). `devices` names devices explicitly.
struct TargetSelector {
  std::vector<std::string> hardware;
  std::vector<std::string> versions;  // running versions
  std::vector<std::string> tags;      // a device matches when it carries any of them
  std::vector<DeviceId> devices;
  // Inventory attributes (Mender clients report them, docs/api/mender.md): name ->
  // its value as JSON text; the device must report every one with that value.
  std::map<std::string, std::string> inventory;
};

// One phase: how many of the targeted devices have been released once it starts,
// cumulatively, as a percentage (1..100) or a count. The last phase takes everyone.
struct PhaseSpec {
  enum class Kind : std::uint8_t { kPercent = 1, kCount = 2 };
  Kind kind = Kind::kPercent;
  std::uint32_t amount = 100;
};

// A daily window in the campaign's time zone in which devices may be told to
// update; start == end means no restriction. end < start wraps past midnight.
struct MaintenanceWindow {
  std::uint16_t start_minute = 0;  // minutes after local midnight
  std::uint16_t end_minute = 0;
  std::string timezone = "UTC";  // IANA name, e.g. "Europe/Berlin"
};

enum class CampaignState : std::uint8_t {
  kDraft = 1,
  kRunning = 2,
  kPaused = 3,
  kCompleted = 4,
  kAborted = 5,
};

struct Campaign {
  CampaignId id;
  std::string name;
  ProductId product;
  ReleaseId release;
  TargetSelector target;
  std::vector<PhaseSpec> phases;  // at least one
  // A phase is done when this share of its devices succeeded; then the next starts.
  double success_threshold = 0.9;
  // When this share of the devices released so far failed, the campaign pauses itself.
  double failure_threshold = 0.2;
  MaintenanceWindow window;
  std::uint32_t max_concurrent_downloads = 0;  // 0: no limit
  bool force = false;                          // true: devices skip user confirmation
  // true: devices running a newer version may be offered this release, if its
  // manifest allows a downgrade too; never one below their security counter.
  bool allow_downgrade = false;
  // A deployment with no news for this long while downloading or installing
  // fails with DEPLOYMENT_TIMED_OUT (550); 0: never.
  std::uint32_t deployment_timeout_seconds = 0;
  // A draft with start_at > 0 starts itself then (the scheduler's tick).
  UnixTime start_at = 0;
  // Devices that register, or start reporting a matching version, while it runs
  // join its current phase at their check-in; it never completes by itself.
  bool dynamic = false;
  CampaignState state = CampaignState::kDraft;
  std::uint32_t current_phase = 0;  // index into phases
  std::string pause_reason;         // set while paused: "operator" or why it paused itself
  std::string created_by;
  UnixTime created_at = 0;
  UnixTime started_at = 0;
  UnixTime finished_at = 0;
};

enum class DeploymentState : std::uint8_t {
  kScheduled = 1,    // targeted; its phase has not started
  kPending = 2,      // released; waits for the device to check in
  kDownloading = 3,  // the device fetches the artifact
  kInstalling = 4,   // verifying and writing the new slot
  kRebooting = 5,    // trial boot under way
  kSucceeded = 6,
  kFailed = 7,      // with an error number; the device runs its old image
  kRolledBack = 8,  // the trial failed its health check; old image again
  kCanceled = 9,    // the campaign was aborted before the device finished
  kDeferred = 10,   // the device's own policy postpones it (battery, network, window, user)
};

// True for the states a deployment never leaves.
constexpr bool is_final(DeploymentState state) {
  return state == DeploymentState::kSucceeded || state == DeploymentState::kFailed ||
         state == DeploymentState::kRolledBack || state == DeploymentState::kCanceled;
}

struct Deployment {
  DeploymentId id;
  CampaignId campaign;
  DeviceId device;
  std::uint32_t phase = 0;
  DeploymentState state = DeploymentState::kScheduled;
  int progress = 0;            // 0..100
  int error = 0;               // ErrorCode number of the last failure, 0 for none
  int attempts = 0;            // artifact offers made to the device
  std::string artifact_kind;   // "delta" or "full" once offered
  std::string from_sha256;     // the image the device ran when offered
  std::string message;         // free text from the last report
  std::string channel;         // the protocol it was offered over: "" native, "ddi", "enos"
  bool ignore_window = false;  // an operator's "update now": offered outside the window too
  UnixTime not_before = 0;     // an operator's "defer until": nothing is offered before
  UnixTime created_at = 0;
  UnixTime updated_at = 0;
  UnixTime finished_at = 0;
};

// One step of a deployment's history: its creation, or a change of its state,
// error, message or attempt (kept by the store as it happens).
struct DeploymentHistoryEntry {
  DeploymentId deployment;
  CampaignId campaign;
  UnixTime at = 0;
  DeploymentState state = DeploymentState::kScheduled;
  int progress = 0;
  int error = 0;
  int attempt = 0;  // the deployment's offer count then
  std::string message;
};

// A line a device attached to one of its reports.
struct DeploymentLogLine {
  UnixTime at = 0;
  std::string line;
};

}  // namespace updraft::server
