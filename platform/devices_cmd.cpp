// iocosim devices: the device tree after Plug and Play has enumerated and started the machine,
// in the shape of Device Manager's "devices by connection" view and WinDbg's !devnode: each
// node's instance path, IDs, driver and upper filters, state (or why it is not started), and
// its resources raw and translated, with the devices each interrupt line is shared with.
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "platform/commands.h"
#include "platform/kernel_host.h"
#include "platform/platform.h"
#include "platform/simulation.h"
#include "util/json.h"

namespace platform {
namespace {

// What a node is called beside its path: the instance's name, or its description.
std::string label(const KernelHost& host, const io::DevNode& n) {
  const DeviceInstance* d = host.instance_of(n);
  return d ? d->name : n.description;
}

// The other devices on IRQ `irq`, by label.
std::vector<std::string> sharers(const KernelHost& host, const io::PnpManager& pnp,
                                 const io::DevNode& self, unsigned irq) {
  std::vector<std::string> out;
  for (const auto& n : pnp.nodes()) {
    if (n.get() == &self || n->state != io::DevNodeState::started) continue;
    for (const auto& r : n->raw_resources)
      if (r.type == io::ResourceType::interrupt && r.irq == irq) out.push_back(label(host, *n));
  }
  return out;
}

std::string resource_line(const KernelHost& host, const io::PnpManager& pnp, const io::DevNode& n,
                          std::size_t i) {
  const io::Resource& r = n.raw_resources[i];
  std::string s = io::describe(r);
  if (r.type == io::ResourceType::interrupt) {
    const io::Resource& t = n.translated_resources[i];
    s += fmt::format(" -> vector {:#04x}, IRQL {}", t.vector, static_cast<unsigned>(t.irql));
    // The processors it may be delivered to, when there is more than one to choose from.
    if (t.affinity != 1) s += fmt::format(", affinity {:#x}", t.affinity);
    const auto with = sharers(host, pnp, n, r.irq);
    if (!with.empty()) s += fmt::format(", shared with {}", fmt::join(with, ", "));
  }
  return s;
}

void print_node(const KernelHost& host, const io::PnpManager& pnp, const io::DevNode& n,
                int depth) {
  const std::string pad(static_cast<std::size_t>(2 * depth), ' ');
  std::string driver = n.service.empty() ? (n.raw ? "no driver" : "-") : n.service;
  for (const auto& f : n.filters) driver += " + " + f;
  std::printf("%s%s\n", pad.c_str(), n.instance_path.c_str());
  std::printf("%s    %s\n", pad.c_str(), label(host, n).c_str());
  std::printf("%s    state      %s%s\n", pad.c_str(), io::to_string(n.state),
              n.problem.empty() ? "" : (": " + n.problem).c_str());
  std::printf("%s    driver     %s\n", pad.c_str(), driver.c_str());
  if (!n.hardware_ids.empty())
    std::printf("%s    IDs        %s\n", pad.c_str(),
                fmt::format("{}", fmt::join(n.hardware_ids, ", ")).c_str());
  if (!n.compatible_ids.empty())
    std::printf("%s    compatible %s\n", pad.c_str(),
                fmt::format("{}", fmt::join(n.compatible_ids, ", ")).c_str());
  for (std::size_t i = 0; i < n.raw_resources.size(); ++i)
    std::printf("%s    %s %s\n", pad.c_str(), i == 0 ? "resources " : "          ",
                resource_line(host, pnp, n, i).c_str());
  if (n.state == io::DevNodeState::not_started && !n.requirements.empty())
    for (std::size_t i = 0; i < n.requirements.size(); ++i)
      std::printf("%s    %s %s\n", pad.c_str(), i == 0 ? "needs     " : "          ",
                  io::describe(n.requirements[i]).c_str());
  for (const io::DevNode* c : n.children) print_node(host, pnp, *c, depth + 1);
}

void json_node(util::JsonWriter& j, const KernelHost& host, const io::PnpManager& pnp,
               const io::DevNode& n) {
  const DeviceInstance* d = host.instance_of(n);
  j.begin_object()
      .field("path", n.instance_path)
      .field("parent", n.parent ? n.parent->instance_path : "")
      .field("instance", d ? d->name : "")
      .field("description", n.description)
      .field("state", io::to_string(n.state))
      .field("problem", n.problem)
      .field("driver", n.service)
      .field("raw", n.raw);
  j.begin_array("filters");
  for (const auto& f : n.filters) j.value(f);
  j.end_array().begin_array("hardware_ids");
  for (const auto& id : n.hardware_ids) j.value(id);
  j.end_array().begin_array("compatible_ids");
  for (const auto& id : n.compatible_ids) j.value(id);
  j.end_array().begin_array("requirements");
  for (const auto& r : n.requirements) j.value(io::describe(r));
  j.end_array().begin_array("resources");
  for (std::size_t i = 0; i < n.raw_resources.size(); ++i) {
    const io::Resource& r = n.raw_resources[i];
    const io::Resource& t = n.translated_resources[i];
    j.begin_object().field("type", io::to_string(r.type)).field("text", io::describe(r));
    switch (r.type) {
      case io::ResourceType::port:
      case io::ResourceType::memory:
        j.field("start", r.start).field("length", r.length);
        break;
      case io::ResourceType::interrupt: {
        j.field("irq", r.irq)
            .field("vector", t.vector)
            .field("irql", static_cast<unsigned>(t.irql))
            .field("affinity", t.affinity)
            .field("level", r.level)
            .field("shared", r.share == io::Share::shared);
        j.begin_array("shared_with");
        for (const auto& s : sharers(host, pnp, n, r.irq)) j.value(s);
        j.end_array();
        break;
      }
      case io::ResourceType::dma:
        j.field("channel", r.channel);
        break;
    }
    j.end_object();
  }
  j.end_array().end_object();
}

}  // namespace

int cmd_devices(const CommonOptions& o, bool json) {
  CommonOptions opts = o;
  // Only the boot: no outputs, no workload (every instance is bound to its driver, as the I/O
  // workloads have them).
  opts.sets.insert(
      opts.sets.begin(),
      {"output.vcd=", "output.events=", "output.stats=", "sim.until=10s", "workload.kind=none"});
  Config c = build_config(opts);
  Platform p("platform", c);
  KernelHost host(p, c);
  host.boot([&] { p.cpu.power_off(0); }, /*with_io=*/true);
  Session s(p, c);
  RunResult r = s.run(c.sim_until_ps, false);
  s.close();
  if (r.interrupted) return kExitInterrupted;
  if (!host.has_pnp()) {
    std::fprintf(stderr, "iocosim devices: the kernel did not boot\n");
    return kExitFailed;
  }
  io::PnpManager& pnp = host.pnp();
  if (json) {
    util::JsonWriter j(true);
    j.begin_object().field("config", o.config.empty() ? "built-in default platform" : o.config);
    j.begin_array("nodes");
    for (const auto& n : pnp.nodes()) json_node(j, host, pnp, *n);
    j.end_array().end_object();
    std::printf("%s\n", j.str().c_str());
  } else {
    std::printf("iocosim devices: %s, after enumeration (%s simulated)\n",
                o.config.empty() ? "built-in default platform" : o.config.c_str(),
                fmt::format("{:.1f} us", static_cast<double>(r.sim_ps) / 1e6).c_str());
    print_node(host, pnp, pnp.root(), 0);
  }
  // A device left stopped is worth a nonzero status for scripts: 1.
  for (const auto& n : pnp.nodes())
    if (n->state == io::DevNodeState::not_started) return kExitFailed;
  return kExitOk;
}

}  // namespace platform
