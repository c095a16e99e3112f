#include "agent/linux/bootloader_env.h"

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "agent/linux/shell_command.h"

namespace updraft::agent {
namespace {

SlotIndex slot_of(const std::string& name) {
  if (name == "A") return 0;
  if (name == "B") return 1;
  return kNoSlot;
}

std::string tool_failure(const std::string& tool, int status) {
  return status < 0 ? tool + " could not be started (is it installed?)"
                    : tool + " exited " + std::to_string(status);
}

}  // namespace

const char* slot_name(SlotIndex slot) {
  if (slot == 0) return "A";
  if (slot == 1) return "B";
  return "";
}

bool parse_bootloader_kind(const std::string& text, BootloaderEnv::Kind& kind) {
  if (text == "grub") {
    kind = BootloaderEnv::Kind::kGrub;
  } else if (text == "u-boot" || text == "uboot") {
    kind = BootloaderEnv::Kind::kUBoot;
  } else {
    return false;
  }
  return true;
}

std::vector<std::string> BootloaderEnv::uboot_tool(const std::string& tool) const {
  std::vector<std::string> argv = {tool};
  if (!options_.uboot_config.empty()) argv.insert(argv.end(), {"-c", options_.uboot_config});
  return argv;
}

HostResult<BootloaderSlots> BootloaderEnv::read() const {
  std::vector<std::string> argv;
  if (options_.kind == Kind::kGrub) {
    argv = {"grub-editenv", options_.grub_env, "list"};
  } else {
    argv = uboot_tool("fw_printenv");
  }
  const ProgramOutput out = run_program(argv);
  if (out.status != 0) {
    return Error(ErrorCode::kIoError,
                 "reading the boot loader's environment: " + tool_failure(argv[0], out.status));
  }
  BootloaderSlots slots;
  std::istringstream lines(out.output);
  for (std::string line; std::getline(lines, line);) {
    const auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    const std::string key = line.substr(0, eq), value = line.substr(eq + 1);
    if (key == "updraft_active" && slot_of(value) != kNoSlot) slots.active = slot_of(value);
    if (key == "updraft_trial") slots.trial = slot_of(value);
    if (key == "updraft_tries") slots.tries = static_cast<unsigned>(std::atoi(value.c_str()));
  }
  return slots;
}

HostResult<void> BootloaderEnv::write(const BootloaderSlots& slots) const {
  const std::string active = slot_name(slots.active), trial = slot_name(slots.trial),
                    tries = std::to_string(slots.trial == kNoSlot ? 0 : slots.tries);
  ProgramOutput out;
  std::string tool;
  if (options_.kind == Kind::kGrub) {
    tool = "grub-editenv";
    out = run_program({tool, options_.grub_env, "set", "updraft_active=" + active,
                       "updraft_trial=" + trial, "updraft_tries=" + tries});
  } else {
    // fw_setenv -s: a script of "name=value" lines (libubootenv's form; "name
    // value" lines are skipped), applied as one write, so both copies of a
    // redundant environment stay consistent. An empty value deletes the name.
    tool = "fw_setenv";
    char path[] = "/tmp/updraft-fw-setenv-XXXXXX";
    const int fd = ::mkstemp(path);
    if (fd < 0) return Error(ErrorCode::kIoError, "fw_setenv: cannot create its script file");
    ::close(fd);
    {
      std::ofstream script(path);
      script << "updraft_active=" << active << "\nupdraft_trial=" << trial
             << "\nupdraft_tries=" << tries << "\n";
    }
    std::vector<std::string> argv = uboot_tool(tool);
    argv.insert(argv.end(), {"-s", path});
    out = run_program(argv);
    ::unlink(path);
  }
  if (out.status != 0) {
    return Error(ErrorCode::kIoError,
                 "writing the boot loader's environment: " + tool_failure(tool, out.status));
  }
  return {};
}

HostResult<SlotIndex> booted_slot(const std::string& cmdline_path) {
  std::ifstream in(cmdline_path);
  std::string word;
  while (in >> word) {
    if (word.rfind("updraft.slot=", 0) != 0) continue;
    const SlotIndex slot = slot_of(word.substr(13));
    if (slot != kNoSlot) return slot;
  }
  return Error(ErrorCode::kInvalidArgument,
               cmdline_path +
                   " names no slot (updraft.slot=A or updraft.slot=B): the boot "
                   "script must add it to the kernel command line");
}

}  // namespace updraft::agent
