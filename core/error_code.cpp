#include "core/error_code.h"

namespace updraft {
namespace {

struct Entry {
  ErrorCode code;
  std::string_view name;
  std::string_view text;
};

constexpr Entry kCatalogue[] = {
    {ErrorCode::kOk, "OK", "ok"},
    {ErrorCode::kPatchBadMagic, "PATCH_BAD_MAGIC", "not an Updraft patch (bad magic)"},
    {ErrorCode::kPatchTruncated, "PATCH_TRUNCATED",
     "patch ended before the new image was complete"},
    {ErrorCode::kPatchCorrupt, "PATCH_CORRUPT",
     "patch data is corrupt (decoded values out of range)"},
    {ErrorCode::kPatchWrongBase, "PATCH_WRONG_BASE",
     "patch was made for a different old image (size or SHA-256 differs)"},
    {ErrorCode::kPatchUnsupportedVersion, "PATCH_UNSUPPORTED_VERSION",
     "patch format version or codec is not supported"},
    {ErrorCode::kPatchWorkspaceTooSmall, "PATCH_WORKSPACE_TOO_SMALL",
     "patch needs more workspace RAM than the device offers"},
    {ErrorCode::kPatchOutputMismatch, "PATCH_OUTPUT_MISMATCH",
     "rebuilt image does not match the SHA-256 in the patch header"},
    {ErrorCode::kPatchFrameChecksum, "PATCH_FRAME_CHECKSUM", "patch frame failed its CRC-32 check"},
    {ErrorCode::kPatchHeaderChecksum, "PATCH_HEADER_CHECKSUM",
     "patch header failed its CRC-32 check"},
    {ErrorCode::kPatchTrailingData, "PATCH_TRAILING_DATA", "bytes follow the end of the patch"},
    {ErrorCode::kPatchBadCheckpoint, "PATCH_BAD_CHECKPOINT",
     "resume checkpoint is corrupt or belongs to another patch"},
    {ErrorCode::kPatchTooLarge, "PATCH_TOO_LARGE", "image sizes exceed the patch format's limits"},
    {ErrorCode::kPatchInputTooLarge, "PATCH_INPUT_TOO_LARGE",
     "input image too large for the diff engine"},
    {ErrorCode::kFirmwareFileMalformed, "FIRMWARE_FILE_MALFORMED",
     "firmware file (Intel HEX or ELF) is malformed"},
    {ErrorCode::kManifestMalformed, "MANIFEST_MALFORMED", "manifest is malformed"},
    {ErrorCode::kSignatureInvalid, "SIGNATURE_INVALID", "signature is invalid"},
    {ErrorCode::kHashMismatch, "HASH_MISMATCH", "SHA-256 does not match"},
    {ErrorCode::kSignatureMissing, "SIGNATURE_MISSING", "metadata carries no signature"},
    {ErrorCode::kSignatureUnknownKey, "SIGNATURE_UNKNOWN_KEY",
     "signed only by keys the trusted root does not know"},
    {ErrorCode::kSignatureKeyNotAuthorized, "SIGNATURE_KEY_NOT_AUTHORIZED",
     "signed by a key the trusted root does not authorize for this role"},
    {ErrorCode::kSignatureKeyRevoked, "SIGNATURE_KEY_REVOKED",
     "signed by a release key the trusted root has revoked"},
    {ErrorCode::kSignatureThresholdNotMet, "SIGNATURE_THRESHOLD_NOT_MET",
     "too few valid signatures from distinct authorized keys"},
    {ErrorCode::kSignatureAlgorithmUnsupported, "SIGNATURE_ALGORITHM_UNSUPPORTED",
     "signature algorithm is not supported here"},
    {ErrorCode::kManifestWrongProduct, "MANIFEST_WRONG_PRODUCT", "manifest is for another product"},
    {ErrorCode::kManifestWrongHardware, "MANIFEST_WRONG_HARDWARE",
     "manifest does not list this device's hardware"},
    {ErrorCode::kManifestRollback, "MANIFEST_ROLLBACK",
     "security counter is below the device's stored counter (rollback)"},
    {ErrorCode::kManifestDowngrade, "MANIFEST_DOWNGRADE",
     "version is older than the installed one and the manifest does not allow a downgrade"},
    {ErrorCode::kManifestExpired, "MANIFEST_EXPIRED",
     "check-in answer has expired (stale or frozen)"},
    {ErrorCode::kManifestNonceMismatch, "MANIFEST_NONCE_MISMATCH",
     "answer does not carry the nonce this check-in sent (replayed)"},
    {ErrorCode::kManifestSourceMismatch, "MANIFEST_SOURCE_MISMATCH",
     "delta was made for another source image than the one running"},
    {ErrorCode::kArtifactTooLarge, "ARTIFACT_TOO_LARGE",
     "download is longer than the size the manifest declares"},
    {ErrorCode::kArtifactKindMismatch, "ARTIFACT_KIND_MISMATCH",
     "artifact kind (delta or full image) is not one the manifest describes"},
    {ErrorCode::kRootRotationInvalid, "ROOT_ROTATION_INVALID",
     "new root is not signed by a threshold of the trusted root's keys"},
    {ErrorCode::kRootVersionRollback, "ROOT_VERSION_ROLLBACK",
     "root version is not the trusted version + 1"},
    {ErrorCode::kRootExpired, "ROOT_EXPIRED", "trusted root metadata has expired"},
    {ErrorCode::kCryptoWorkspaceTooSmall, "CRYPTO_WORKSPACE_TOO_SMALL",
     "signature check needs more workspace RAM than the device offers"},
    {ErrorCode::kFlashOutOfRange, "FLASH_OUT_OF_RANGE", "flash access outside the device"},
    {ErrorCode::kFlashMisaligned, "FLASH_MISALIGNED", "flash write or erase is not aligned"},
    {ErrorCode::kFlashNotErased, "FLASH_NOT_ERASED", "flash write to bytes that are not erased"},
    {ErrorCode::kFlashIo, "FLASH_IO", "flash driver reported an I/O error"},
    {ErrorCode::kFlashPowerLost, "FLASH_POWER_LOST", "power was lost during a flash operation"},
    {ErrorCode::kFlashLayoutInvalid, "FLASH_LAYOUT_INVALID",
     "flash is too small or misaligned for the slot layout"},
    {ErrorCode::kTransportFailed, "TRANSPORT_FAILED",
     "connection to the update server failed or dropped"},
    {ErrorCode::kTransportTimeout, "TRANSPORT_TIMEOUT", "update server did not answer in time"},
    {ErrorCode::kArtifactTruncated, "ARTIFACT_TRUNCATED",
     "download ended before the declared size"},
    {ErrorCode::kTransportRetriesExhausted, "TRANSPORT_RETRIES_EXHAUSTED",
     "download failed 3 times; backing off until the next cycle"},
    {ErrorCode::kTransportMalformed, "TRANSPORT_MALFORMED",
     "a message from the server does not parse"},
    {ErrorCode::kTransportBlockCorrupt, "TRANSPORT_BLOCK_CORRUPT",
     "a block came with the wrong number or checksum"},
    {ErrorCode::kCheckInRejected, "CHECK_IN_REJECTED", "update server rejected the check-in"},
    {ErrorCode::kJournalEmpty, "JOURNAL_EMPTY", "no record has been stored yet"},
    {ErrorCode::kJournalRecordTooLarge, "JOURNAL_RECORD_TOO_LARGE",
     "record does not fit the journal slot"},
    {ErrorCode::kJournalCorrupt, "JOURNAL_CORRUPT", "journal record content is invalid"},
    {ErrorCode::kBootNoValidImage, "BOOT_NO_VALID_IMAGE", "no slot holds an image that verifies"},
    {ErrorCode::kBootSlotHashMismatch, "BOOT_SLOT_HASH_MISMATCH",
     "slot contents do not match the SHA-256 recorded for it"},
    {ErrorCode::kAgentTrialFailed, "AGENT_TRIAL_FAILED",
     "new image did not confirm its trial boot; rolled back to the previous image"},
    {ErrorCode::kAgentHealthCheckFailed, "AGENT_HEALTH_CHECK_FAILED",
     "new image failed its health check after the trial boot"},
    {ErrorCode::kAgentFrameMisfit, "AGENT_FRAME_MISFIT",
     "patch frames do not align with this device's flash sectors"},
    {ErrorCode::kAgentImageTooLarge, "AGENT_IMAGE_TOO_LARGE",
     "image does not fit the device's slot"},
    {ErrorCode::kAgentDeferredLowBattery, "AGENT_DEFERRED_LOW_BATTERY",
     "update deferred: battery below the policy floor"},
    {ErrorCode::kAgentDeferredNetwork, "AGENT_DEFERRED_NETWORK",
     "update deferred: current network is not allowed"},
    {ErrorCode::kAgentDeferredWindow, "AGENT_DEFERRED_WINDOW",
     "update deferred: outside the maintenance window"},
    {ErrorCode::kAgentDeferredUser, "AGENT_DEFERRED_USER",
     "update deferred: waiting for user confirmation"},
    {ErrorCode::kAgentClientReportedFailure, "AGENT_CLIENT_REPORTED_FAILURE",
     "the update client reported a failure (see its details)"},
    {ErrorCode::kAgentClientDownloadFailed, "AGENT_CLIENT_DOWNLOAD_FAILED",
     "the update client could not download the file or its hash did not match"},
    {ErrorCode::kDeploymentTimedOut, "DEPLOYMENT_TIMED_OUT",
     "no news from the device within the campaign's deployment timeout"},
    {ErrorCode::kStoreIo, "STORE_IO", "the server's database failed"},
    {ErrorCode::kStoreNotFound, "STORE_NOT_FOUND", "no such record"},
    {ErrorCode::kStoreConflict, "STORE_CONFLICT", "a record with this key already exists"},
    {ErrorCode::kStoreCorrupt, "STORE_CORRUPT", "a stored record cannot be read back"},
    {ErrorCode::kStoreMigration, "STORE_MIGRATION", "the database schema could not be migrated"},
    {ErrorCode::kStoreBusy, "STORE_BUSY", "the database is locked by another process"},
    {ErrorCode::kApiBadRequest, "BAD_REQUEST", "the request is malformed or a field is invalid"},
    {ErrorCode::kApiUnauthorized, "UNAUTHORIZED", "missing or invalid credentials"},
    {ErrorCode::kApiForbidden, "FORBIDDEN", "these credentials may not do this"},
    {ErrorCode::kApiNotFound, "NOT_FOUND", "no such resource"},
    {ErrorCode::kApiConflict, "CONFLICT", "the resource exists or is in a state that forbids this"},
    {ErrorCode::kApiPayloadTooLarge, "PAYLOAD_TOO_LARGE",
     "the request body is larger than allowed"},
    {ErrorCode::kApiUnsupportedMediaType, "UNSUPPORTED_MEDIA_TYPE",
     "the request body has the wrong content type"},
    {ErrorCode::kApiMethodNotAllowed, "METHOD_NOT_ALLOWED",
     "this resource does not take this method"},
    {ErrorCode::kApiRangeNotSatisfiable, "RANGE_NOT_SATISFIABLE",
     "the requested byte range is outside the artifact"},
    {ErrorCode::kApiGone, "GONE", "the resource is finished and takes no more changes"},
    {ErrorCode::kApiNotAcceptable, "NOT_ACCEPTABLE",
     "the request cannot be accepted in the resource's state"},
    {ErrorCode::kApiTooManyRequests, "TOO_MANY_REQUESTS", "too many requests; retry later"},
    {ErrorCode::kApiUnavailable, "UNAVAILABLE", "the server is shutting down or not ready"},
    {ErrorCode::kIoError, "IO_ERROR", "file input/output failed"},
    {ErrorCode::kInvalidArgument, "INVALID_ARGUMENT", "invalid argument"},
    {ErrorCode::kInternal, "INTERNAL", "internal error"},
    {ErrorCode::kCanceled, "CANCELED", "stopped before it finished"},
};

const Entry* find(ErrorCode code) {
  for (const Entry& e : kCatalogue) {
    if (e.code == code) return &e;
  }
  return nullptr;
}

}  // namespace

std::string_view describe(ErrorCode code) {
  const Entry* e = find(code);
  return e != nullptr ? e->text : std::string_view("unknown error");
}

std::string_view error_name(ErrorCode code) {
  const Entry* e = find(code);
  return e != nullptr ? e->name : std::string_view("UNKNOWN");
}

}  // namespace updraft
