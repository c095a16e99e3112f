#include "agent/linux/config_file.h"

#include <algorithm>
#include <fstream>

namespace updraft::agent {
namespace {

std::string trim(const std::string& text) {
  const auto first = text.find_first_not_of(" \t\r");
  if (first == std::string::npos) return "";
  return text.substr(first, text.find_last_not_of(" \t\r") - first + 1);
}

// True if the command line already gives --name (as "--name" or "--name=...").
bool given(const std::vector<std::string>& args, const std::string& name) {
  return std::any_of(args.begin(), args.end(), [&](const std::string& a) {
    return a == name || a.rfind(name + "=", 0) == 0;
  });
}

}  // namespace

HostResult<std::vector<std::string>> expand_config(const std::vector<std::string>& args,
                                                   const std::vector<std::string>& only) {
  std::vector<std::string> rest;
  std::string path;
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--config" && i + 1 < args.size()) {
      path = args[++i];
    } else if (args[i].rfind("--config=", 0) == 0) {
      path = args[i].substr(9);
    } else {
      rest.push_back(args[i]);
    }
  }
  if (path.empty()) return args;
  std::ifstream in(path);
  if (!in) return Error(ErrorCode::kInvalidArgument, "--config: cannot read " + path);

  std::vector<std::string> from_file;
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    line = trim(line);
    if (line.empty() || line[0] == '#' || line[0] == ';' || line[0] == '[') continue;
    const auto eq = line.find('=');
    std::string key = eq == std::string::npos ? "" : trim(line.substr(0, eq));
    std::string value = eq == std::string::npos ? "" : trim(line.substr(eq + 1));
    if (key.empty() || key.find_first_of(" \t\"") != std::string::npos) {
      return Error(ErrorCode::kInvalidArgument, path + ":" + std::to_string(number) +
                                                    ": expected key = value, got \"" + line + "\"");
    }
    if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') &&
        value.back() == value.front()) {
      value = value.substr(1, value.size() - 2);
    }
    std::replace(key.begin(), key.end(), '_', '-');
    if (!only.empty() && std::find(only.begin(), only.end(), key) == only.end()) continue;
    const std::string option = "--" + key;
    if (given(rest, option)) continue;
    if (value == "true") {
      from_file.push_back(option);
    } else if (value != "false") {
      from_file.push_back(option);
      from_file.push_back(value);
    }
  }
  // After the subcommand (the first argument), before the command line's own.
  std::vector<std::string> out;
  if (!rest.empty()) out.push_back(rest.front());
  out.insert(out.end(), from_file.begin(), from_file.end());
  if (rest.size() > 1) out.insert(out.end(), rest.begin() + 1, rest.end());
  return out;
}

}  // namespace updraft::agent
