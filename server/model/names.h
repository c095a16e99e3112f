// The names of the server's enums, as the API, the store's settings, metrics and
// logs spell them: one table per enum, read both ways. A new enumerator gets its
// name here and nowhere else.
#pragma once

#include <array>
#include <optional>
#include <string_view>
#include <utility>

#include "server/model/audit.h"
#include "server/model/campaign.h"
#include "server/model/fleet.h"
#include "server/model/mender.h"

namespace updraft::server {

template <typename E>
struct EnumNames;

template <>
struct EnumNames<DeploymentState> {
  static constexpr std::array<std::pair<DeploymentState, std::string_view>, 10> kTable{{
      {DeploymentState::kScheduled, "scheduled"},
      {DeploymentState::kPending, "pending"},
      {DeploymentState::kDownloading, "downloading"},
      {DeploymentState::kInstalling, "installing"},
      {DeploymentState::kRebooting, "rebooting"},
      {DeploymentState::kSucceeded, "succeeded"},
      {DeploymentState::kFailed, "failed"},
      {DeploymentState::kRolledBack, "rolled_back"},
      {DeploymentState::kCanceled, "canceled"},
      {DeploymentState::kDeferred, "deferred"},
  }};
};

template <>
struct EnumNames<CampaignState> {
  static constexpr std::array<std::pair<CampaignState, std::string_view>, 5> kTable{{
      {CampaignState::kDraft, "draft"},
      {CampaignState::kRunning, "running"},
      {CampaignState::kPaused, "paused"},
      {CampaignState::kCompleted, "completed"},
      {CampaignState::kAborted, "aborted"},
  }};
};

template <>
struct EnumNames<Role> {
  static constexpr std::array<std::pair<Role, std::string_view>, 3> kTable{{
      {Role::kViewer, "viewer"},
      {Role::kOperator, "operator"},
      {Role::kAdmin, "admin"},
  }};
};

template <>
struct EnumNames<DeltaState> {
  static constexpr std::array<std::pair<DeltaState, std::string_view>, 5> kTable{{
      {DeltaState::kQueued, "queued"},
      {DeltaState::kBuilding, "building"},
      {DeltaState::kReady, "ready"},
      {DeltaState::kNotSmaller, "not_smaller"},
      {DeltaState::kFailed, "failed"},
  }};
};

template <>
struct EnumNames<AuthSetStatus> {
  static constexpr std::array<std::pair<AuthSetStatus, std::string_view>, 4> kTable{{
      {AuthSetStatus::kPending, "pending"},
      {AuthSetStatus::kAccepted, "accepted"},
      {AuthSetStatus::kRejected, "rejected"},
      {AuthSetStatus::kPreauthorized, "preauthorized"},
  }};
};

// The name of `value`; "unknown" for a number outside the enum (a newer store).
template <typename E>
constexpr std::string_view name_of(E value) {
  for (const auto& [v, name] : EnumNames<E>::kTable) {
    if (v == value) return name;
  }
  return "unknown";
}

// The enumerator named `name`, or nullopt.
template <typename E>
constexpr std::optional<E> from_name(std::string_view name) {
  for (const auto& [v, n] : EnumNames<E>::kTable) {
    if (n == name) return v;
  }
  return std::nullopt;
}

}  // namespace updraft::server
