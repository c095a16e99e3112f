// The one catalogue of error numbers. Devices report these numbers and the console
// shows them, so a number is never reused or renumbered. Ranges: 1xx patch,
// 2xx manifest/signature, 3xx flash, 4xx download/transport, 5xx agent/boot,
// 6xx server storage, 7xx API requests, 9xx host tools.
// Portable: no heap, usable on the device.
#pragma once

#include <cstdint>
#include <string_view>

namespace updraft {

enum class ErrorCode : std::uint16_t {
  kOk = 0,

  // 1xx patch
  kPatchBadMagic = 100,
  kPatchTruncated = 101,
  kPatchCorrupt = 102,
  kPatchWrongBase = 103,
  kPatchUnsupportedVersion = 104,
  kPatchWorkspaceTooSmall = 105,
  kPatchOutputMismatch = 106,
  kPatchFrameChecksum = 107,
  kPatchHeaderChecksum = 108,
  kPatchTrailingData = 109,
  kPatchBadCheckpoint = 110,
  kPatchTooLarge = 111,
  kPatchInputTooLarge = 112,
  kFirmwareFileMalformed = 113,  // an Intel HEX or ELF input that does not parse

  // 2xx manifest and signatures
  kManifestMalformed = 200,
  kSignatureInvalid = 201,
  kHashMismatch = 202,
  kSignatureMissing = 203,
  kSignatureUnknownKey = 204,
  kSignatureKeyNotAuthorized = 205,
  kSignatureKeyRevoked = 206,
  kSignatureThresholdNotMet = 207,
  kSignatureAlgorithmUnsupported = 208,
  kManifestWrongProduct = 209,
  kManifestWrongHardware = 210,
  kManifestRollback = 211,
  kManifestDowngrade = 212,
  kManifestExpired = 213,
  kManifestNonceMismatch = 214,
  kManifestSourceMismatch = 215,
  kArtifactTooLarge = 216,
  kArtifactKindMismatch = 217,
  kRootRotationInvalid = 218,
  kRootVersionRollback = 219,
  kRootExpired = 220,
  kCryptoWorkspaceTooSmall = 221,

  // 3xx flash
  kFlashOutOfRange = 300,
  kFlashMisaligned = 301,
  kFlashNotErased = 302,
  kFlashIo = 303,
  kFlashPowerLost = 304,
  kFlashLayoutInvalid = 305,

  // 4xx download and transport
  kTransportFailed = 400,
  kTransportTimeout = 401,
  kArtifactTruncated = 402,
  kTransportRetriesExhausted = 403,
  kCheckInRejected = 404,
  kTransportMalformed = 405,     // a message from the server that does not parse
  kTransportBlockCorrupt = 406,  // a block whose number or checksum is wrong

  // 5xx agent and boot
  kJournalEmpty = 500,
  kJournalRecordTooLarge = 501,
  kJournalCorrupt = 502,
  kBootNoValidImage = 510,
  kBootSlotHashMismatch = 511,
  kAgentTrialFailed = 520,
  kAgentHealthCheckFailed = 521,
  kAgentFrameMisfit = 522,
  kAgentImageTooLarge = 523,
  kAgentDeferredLowBattery = 530,
  kAgentDeferredNetwork = 531,
  kAgentDeferredWindow = 532,
  kAgentDeferredUser = 533,
  // 54x: failures that update clients of other protocols report without a number
  kAgentClientReportedFailure = 540,
  kAgentClientDownloadFailed = 541,
  // 55x: decided by the server about a device's deployment
  kDeploymentTimedOut = 550,  // no news within the campaign's deployment timeout

  // 6xx server storage
  kStoreIo = 600,
  kStoreNotFound = 601,
  kStoreConflict = 602,
  kStoreCorrupt = 603,
  kStoreMigration = 604,
  kStoreBusy = 605,

  // 7xx API requests
  kApiBadRequest = 700,
  kApiUnauthorized = 701,
  kApiForbidden = 702,
  kApiNotFound = 703,
  kApiConflict = 704,
  kApiPayloadTooLarge = 705,
  kApiUnsupportedMediaType = 706,
  kApiMethodNotAllowed = 707,
  kApiRangeNotSatisfiable = 708,
  kApiGone = 709,
  kApiNotAcceptable = 710,
  kApiTooManyRequests = 711,
  kApiUnavailable = 712,

  // 9xx host tools (never sent by a device)
  kIoError = 900,
  kInvalidArgument = 901,
  kInternal = 902,
  kCanceled = 903,  // stopped before it finished (a server shutting down)
};

// Static text for a code; never empty, usable on the device.
std::string_view describe(ErrorCode code);

// Stable upper-case name for the API's error shape, e.g. "PATCH_TRUNCATED".
std::string_view error_name(ErrorCode code);

constexpr std::uint16_t error_number(ErrorCode code) { return static_cast<std::uint16_t>(code); }

}  // namespace updraft
