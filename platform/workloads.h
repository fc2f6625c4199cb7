#pragma once
// The built-in workload types (registered in platform/workloads.cpp): the pre-kernel idle loop,
// the bare-metal DMA transfer, and the kernel workloads, which run on the kernel host
// (platform/kernel_host.h) and are only their threads. Workload itself is in registry.h.
#include <memory>
#include <string>
#include <vector>

#include "platform/config.h"
#include "platform/kernel_host.h"
#include "platform/platform.h"
#include "platform/registry.h"

namespace platform {

// A workload on the kernel host: the host's statistics and summary follow the workload's own.
class HostedWorkload : public Workload {
 public:
  HostedWorkload(Platform& p, const Config& c) : host_(p, c) {}
  void write_stats(util::JsonWriter& j) const override {
    j.begin_object("workload").field("kind", host_.config().workload);
    workload_stats(j);
    j.end_object();
    host_.write_stats(j);
  }
  void print_summary(std::FILE* out) const override {
    host_.print_summary(out);
    workload_summary(out);
  }
  const ke::BugCheckRecord* bug_check() const override { return host_.bug_check(); }
  std::map<std::uint64_t, std::string> irql_names() const override;
  std::map<std::uint64_t, std::string> thread_names() const override;
  std::map<std::uint64_t, std::string> routine_names() const override;
  // The kernel host it runs on (tools and tests look at its device tree and drivers).
  KernelHost& host() { return host_; }
  const KernelHost& host() const { return host_; }

 protected:
  virtual void workload_stats(util::JsonWriter&) const {}
  virtual void workload_summary(std::FILE*) const {}

 private:
  KernelHost host_;
};

// For workload checks: "" if key workload.<section>.<key> names an instance of `type` (bound
// to driver type `driver`; with `driver` empty, the workload programs the instance itself at
// its fixed resources, so it must be on bus: isa), else "workload.<section>.<key>: why".
std::string require_instance(const Config& c, const std::string& section, const std::string& key,
                             const std::string& type, const std::string& driver = "");

}  // namespace platform
