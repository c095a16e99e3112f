// What the platform does for the agent around a reboot (portable).
#pragma once

namespace updraft::agent {

class BootControl {
 public:
  // Resets the device so the boot logic runs. On a device this does not return;
  // a simulation records the request and restarts the agent.
  virtual void reboot() = 0;
  // The application's health check after a trial boot: true confirms the image.
  virtual bool healthy() = 0;

 protected:
  ~BootControl() = default;
};

}  // namespace updraft::agent
