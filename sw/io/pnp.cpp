#include "sw/io/pnp.h"

#include <algorithm>

#include <fmt/format.h>

#include "sw/io/log.h"
#include "util/event_log.h"

namespace io {
using detail::logger;

namespace {

// "ports 0x1f0-0x1ff; IRQ 14 (edge, exclusive)": a resource or requirement list for messages.
template <typename List>
std::string text(const List& list) {
  std::string s;
  for (const auto& r : list) s += (s.empty() ? "" : "; ") + describe(r);
  return s.empty() ? "none" : s;
}

}  // namespace

const char* to_string(DevNodeState s) {
  switch (s) {
    case DevNodeState::initialized:
      return "initialized";
    case DevNodeState::drivers_added:
      return "drivers added";
    case DevNodeState::started:
      return "started";
    case DevNodeState::not_started:
      return "not started";
    case DevNodeState::removed:
      return "removed";
  }
  return "?";
}

PnpManager::PnpManager(IoManager& io) : io_(io) {
  root_driver_ = &io_.load_driver("\\Driver\\PnpManager", [this](DriverObject& d) {
    d.context = this;
    d.major_function[static_cast<unsigned>(Major::pnp)] = &PnpManager::root_dispatch;
    return Status::success;
  });
  DeviceObject* root = io_.create_device(*root_driver_, "", nullptr);
  root->flags &= ~kDoDeviceInitializing;
  DevNode& n = new_node(nullptr, root);
  n.instance_path = n.name = "HTREE\\ROOT\\0";
  n.description = "the root of the device tree";
  n.raw = true;
  n.state = DevNodeState::started;
  root_ = &n;
  io_.kernel().initialize_event(done_, "pnp_request", ke::EventType::synchronization, false);
  io_.kernel().initialize_event(tree_lock_, "pnp_tree", ke::EventType::synchronization, true);
  io_.on_last_close = [this](DeviceObject& pdo) { last_handle_closed(pdo); };
}

void PnpManager::add_root_device(RootDevice device) {
  root_devices_.push_back(std::move(device));
}

DevNode& PnpManager::new_node(DevNode* parent, DeviceObject* pdo) {
  nodes_.push_back(std::make_unique<DevNode>());
  DevNode& n = *nodes_.back();
  n.parent = parent;
  n.pdo = pdo;
  if (pdo) pdo->pdo = true;
  if (parent) parent->children.push_back(&n);
  return n;
}

DevNode* PnpManager::node_of(const DeviceObject& pdo) const {
  for (const auto& n : nodes_)
    if (n->pdo == &pdo) return n.get();
  return nullptr;
}

// The root enumerator: the root device's BusRelations are the reported devices; each of their
// PDOs answers its IDs and its fixed requirements.
Status PnpManager::root_dispatch(DeviceObject* device, Irp* irp) {
  auto* self = static_cast<PnpManager*>(device->driver->context);
  IoStackLocation& sl = irp->current();
  Status s = irp->io_status.status;
  PnpResult* out = irp->pnp_result;
  const bool is_root = device == self->root_->pdo;
  std::size_t index = 0;
  for (; index < self->root_pdos_.size() && self->root_pdos_[index] != device; ++index) {
  }
  const RootDevice* rd =
      index < self->root_devices_.size() && !is_root ? &self->root_devices_[index] : nullptr;
  switch (sl.pnp.minor) {
    case Minor::query_device_relations:
      if (is_root && out) {
        while (self->root_pdos_.size() < self->root_devices_.size()) {
          DeviceObject* pdo = self->io_.create_device(*device->driver, "", nullptr);
          pdo->flags &= ~kDoDeviceInitializing;
          self->root_pdos_.push_back(pdo);
        }
        out->relations = self->root_pdos_;
        s = Status::success;
      }
      break;
    case Minor::query_id:
      if (rd && out) {
        // Instance IDs count the devices with the same ID, as the registry's Root\ keys do.
        unsigned ordinal = 0;
        for (std::size_t i = 0; i < index; ++i)
          if (self->root_devices_[i].id == rd->id) ++ordinal;
        switch (sl.pnp.id_type) {
          case IdType::device_id:
            out->ids = {"ROOT\\" + rd->id};
            break;
          case IdType::hardware_ids:
            out->ids = rd->hardware_ids;
            break;
          case IdType::compatible_ids:
            out->ids = {};
            break;
          case IdType::instance_id:
            out->ids = {fmt::format("{:04}", ordinal)};
            break;
        }
        s = Status::success;
      }
      break;
    case Minor::query_resource_requirements:
      if (rd && out) {
        out->requirements = rd->requirements;
        s = Status::success;
      }
      break;
    case Minor::query_capabilities:
      if (rd && out) {
        // A legacy device is soldered in: not removable; its instance ID is unique.
        out->capabilities.unique_id = true;
        out->capabilities.address = static_cast<std::uint32_t>(index);
        s = Status::success;
      }
      break;
    case Minor::start_device:
    case Minor::surprise_removal:
    case Minor::remove_device:
    case Minor::query_remove_device:
    case Minor::cancel_remove_device:
    case Minor::query_stop_device:
    case Minor::stop_device:
    case Minor::cancel_stop_device:
      s = Status::success;  // a legacy device has nothing to program or to let go of
      break;
    default:
      break;
  }
  irp->io_status = {s, 0};
  self->io_.complete_request(*irp);
  return s;
}

Status PnpManager::send(DevNode& node, Minor minor, PnpResult* result, IdType id) {
  // A PDO its bus driver already deleted (the device left) takes no more IRPs.
  if (node.pdo == nullptr || node.pdo->removed || node.pdo->driver == nullptr)
    return Status::no_such_device;
  IoStackLocation::Pnp p;
  p.minor = minor;
  p.id_type = id;
  if (minor == Minor::start_device) {
    p.raw = &node.raw_resources;
    p.translated = &node.translated_resources;
  }
  ++stats_.irps;
  return io_.send_pnp(*node.pdo, p, result, done_);
}

void PnpManager::fail(DevNode& node, std::string problem) {
  node.state = DevNodeState::not_started;
  node.problem = std::move(problem);
  ++stats_.not_started;
  logger().warn("{} not started: {}", node.instance_path, node.problem);
  if (util::events().enabled())
    util::events().emit("pnp", "not_started",
                        {{"node", node.instance_path}, {"problem", node.problem}});
}

void PnpManager::process(DevNode& n) {
  // 1. Who it is.
  PnpResult r;
  if (nt_success(send(n, Minor::query_id, &r, IdType::device_id)) && !r.ids.empty())
    n.instance_path = r.ids.front();
  r = {};
  if (nt_success(send(n, Minor::query_id, &r, IdType::instance_id)) && !r.ids.empty())
    n.instance_path += "\\" + r.ids.front();
  r = {};
  if (nt_success(send(n, Minor::query_id, &r, IdType::hardware_ids))) n.hardware_ids = r.ids;
  r = {};
  if (nt_success(send(n, Minor::query_id, &r, IdType::compatible_ids))) n.compatible_ids = r.ids;
  n.name = n.instance_path;
  // What the bus says of the device: removable, its address (Microsoft sends the PDO
  // IRP_MN_QUERY_CAPABILITIES before any driver is loaded, and the stack again after START).
  r = {};
  if (nt_success(send(n, Minor::query_capabilities, &r))) n.capabilities = r.capabilities;
  if (util::events().enabled())
    util::events().emit("pnp", "found",
                        {{"node", n.instance_path},
                         {"parent", n.parent ? n.parent->instance_path : ""},
                         {"hardware_id", n.hardware_ids.empty() ? "" : n.hardware_ids.front()}});

  // 2. What it can use, from its bus driver: the PDO is the whole stack yet (Microsoft,
  // "Adding a PnP Device to a Running System": the bus driver answers
  // IRP_MN_QUERY_RESOURCE_REQUIREMENTS before any function driver is loaded).
  r = {};
  const Status q = send(n, Minor::query_resource_requirements, &r);
  if (nt_success(q)) {
    n.requirements = r.requirements;
  } else if (q != Status::not_supported) {
    fail(n,
         fmt::format("CM_PROB_FAILED_START (10): QUERY_RESOURCE_REQUIREMENTS: {}", to_string(q)));
    return;
  }

  // 3, 4. The driver table, then AddDevice: the function driver, then the upper filters. A
  // root device the HAL owns (RootDevice::raw) starts with no driver.
  DriverBinding b;
  if (n.raw)
    b.raw = true;
  else if (table_)
    b = table_(n);
  if (b.function == nullptr && !b.raw) {
    fail(n, "CM_PROB_FAILED_INSTALL (28): " +
                (b.problem.empty() ? "no driver matches its hardware IDs" : b.problem));
    return;
  }
  std::vector<DriverObject*> drivers;
  if (b.function) drivers.push_back(b.function);
  for (DriverObject* f : b.upper_filters) drivers.push_back(f);
  for (DriverObject* d : drivers) {
    const Status s = d->add_device ? d->add_device(*d, *n.pdo) : Status::not_supported;
    if (util::events().enabled())
      util::events().emit(
          "pnp", "add_device",
          {{"node", n.instance_path}, {"driver", d->name}, {"status", to_string(s)}});
    if (!nt_success(s)) {
      fail(n, fmt::format("CM_PROB_FAILED_ADD (31): {} AddDevice: {}", d->name, to_string(s)));
      return;
    }
    (d == b.function ? n.service : (n.filters.emplace_back(), n.filters.back())) = d->name;
  }
  n.raw = b.function == nullptr;
  n.state = DevNodeState::drivers_added;

  // 5. The stack may narrow or change them: IRP_MN_FILTER_RESOURCE_REQUIREMENTS goes to the
  // whole stack with the bus driver's list; a driver that handles it returns its list, one
  // that does not leaves STATUS_NOT_SUPPORTED and the list as it was.
  r = {};
  r.requirements = n.requirements;
  const Status fq = send(n, Minor::filter_resource_requirements, &r);
  if (nt_success(fq)) {
    n.requirements = r.requirements;
  } else if (fq != Status::not_supported) {
    tear_down(n);
    fail(n,
         fmt::format("CM_PROB_FAILED_START (10): FILTER_RESOURCE_REQUIREMENTS: {}", to_string(fq)));
    return;
  }

  // 6. Arbitration against every device started so far.
  std::string why;
  auto raw = arbiter_.assign(n.name, n.requirements, why);
  if (!raw) {
    fail(n, "CM_PROB_NORMAL_CONFLICT (12): " + why);
    return;
  }
  n.raw_resources = *raw;

  start(n);
}

bool PnpManager::start(DevNode& n) {
  // 7. Translation (the interrupt arbiter makes a shared line level-triggered first), start.
  for (const auto& res : n.raw_resources)
    if (res.type == ResourceType::interrupt && res.level)
      io_.kernel().hal().set_level_triggered(res.irq);
  n.translated_resources = io_.translate_resources(n.raw_resources);
  if (util::events().enabled()) {
    std::string irql;
    for (const auto& t : n.translated_resources)
      if (t.type == ResourceType::interrupt)
        irql = fmt::format("vector {:#x} IRQL {}", t.vector, static_cast<unsigned>(t.irql));
    util::events().emit("pnp", "resources",
                        {{"node", n.instance_path},
                         {"requirements", text(n.requirements)},
                         {"assigned", text(n.raw_resources)},
                         {"translated", irql}});
  }
  const Status s = send(n, Minor::start_device, nullptr);
  if (!nt_success(s)) {
    // A failed start is followed by IRP_MN_REMOVE_DEVICE, never SURPRISE_REMOVAL (Microsoft,
    // "Understanding When Remove IRPs Are Issued"): the drivers let go and detach; the PDO
    // stays, with the problem.
    unstart(n, fmt::format("CM_PROB_FAILED_START (10): START_DEVICE: {}", to_string(s)));
    return false;
  }
  n.state = DevNodeState::started;
  n.pdo->started = true;
  n.problem.clear();
  ++stats_.started;
  io_.kernel().cpu().set_probe(hw::Probe::devices_started, static_cast<std::uint32_t>(started()));
  logger().info("{} started ({}): {}", n.instance_path, n.service.empty() ? "no driver" : n.service,
                text(n.raw_resources));
  if (util::events().enabled())
    util::events().emit("pnp", "start",
                        {{"node", n.instance_path},
                         {"driver", n.service.empty() ? "(raw)" : n.service},
                         {"status", to_string(s)}});
  // After a start (Microsoft, "Starting a Device"): the capabilities again, now from the whole
  // stack, and the device's state; a device that reports it failed is removed.
  PnpResult r;
  if (nt_success(send(n, Minor::query_capabilities, &r))) n.capabilities = r.capabilities;
  r = {};
  if (nt_success(send(n, Minor::query_pnp_device_state, &r))) n.device_state = r.device_state;
  if (n.device_state & kPnpDeviceFailed) {
    n.pdo->started = false;
    --stats_.started;
    unstart(n, "CM_PROB_FAILED_POST_START (43): the driver reported PNP_DEVICE_FAILED");
    io_.kernel().cpu().set_probe(hw::Probe::devices_started, static_cast<std::uint32_t>(started()));
    return false;
  }
  return true;
}

void PnpManager::unstart(DevNode& n, std::string problem) {
  tear_down(n);
  arbiter_.release(n.name);
  n.raw_resources.clear();
  n.translated_resources.clear();
  fail(n, std::move(problem));
}

std::size_t PnpManager::started() const {
  std::size_t n = 0;
  for (const auto& d : nodes_)
    if (d.get() != root_ && d->state == DevNodeState::started) ++n;
  return n;
}

void PnpManager::enumerate() {
  io_.kernel().wait_for_single_object(tree_lock_, std::nullopt);
  enumerate_bus(*root_);
  io_.kernel().set_event(tree_lock_);
}

void PnpManager::enumerate_bus(DevNode& bus) {
  if (bus.state != DevNodeState::started) return;
  PnpResult r;
  const Status s = send(bus, Minor::query_device_relations, &r);
  if (!nt_success(s)) return;  // not a bus (STATUS_NOT_SUPPORTED) or it failed
  ++stats_.enumerations;
  if (util::events().enabled())
    util::events().emit("pnp", "enumerate",
                        {{"bus", bus.instance_path}, {"children", r.relations.size()}});
  // Children that are no longer reported left the machine.
  const std::vector<DevNode*> before = bus.children;
  for (DevNode* child : before) {
    if (child->state == DevNodeState::removed) continue;
    if (std::find(r.relations.begin(), r.relations.end(), child->pdo) == r.relations.end())
      remove_subtree(*child, true);
  }
  // A level at a time: every new child is started before any of their buses is enumerated, so
  // the root's legacy devices hold their fixed resources before a bus below asks for any.
  std::vector<DevNode*> added;
  for (DeviceObject* pdo : r.relations) {
    if (node_of(*pdo) != nullptr) continue;
    DevNode& child = new_node(&bus, pdo);
    added.push_back(&child);
    if (&bus == root_) {
      for (std::size_t i = 0; i < root_pdos_.size(); ++i)
        if (root_pdos_[i] == pdo) {
          child.tag = root_devices_[i].tag;
          child.description = root_devices_[i].description;
          child.raw = root_devices_[i].raw;
        }
    }
    process(child);
  }
  for (DevNode* child : added) enumerate_bus(*child);
}

void PnpManager::invalidate_device_relations(DeviceObject& device) {
  io_.kernel().wait_for_single_object(tree_lock_, std::nullopt);
  // The node whose stack holds `device`.
  DevNode* bus = nullptr;
  for (const auto& n : nodes_) {
    if (n->state == DevNodeState::removed || n->pdo == nullptr) continue;
    for (DeviceObject* d = n->pdo; d != nullptr && bus == nullptr; d = d->attached_device)
      if (d == &device) bus = n.get();
  }
  if (bus != nullptr) enumerate_bus(*bus);
  io_.kernel().set_event(tree_lock_);
}

void PnpManager::remove_subtree(DevNode& node, bool surprise) {
  for (DevNode* child : node.children)
    if (child->state != DevNodeState::removed) remove_subtree(*child, surprise);
  if (util::events().enabled())
    util::events().emit("pnp", surprise ? "surprise_removal" : "remove",
                        {{"node", node.instance_path}});
  if (node.pdo != nullptr) node.pdo->started = false;
  const bool was_started = node.state == DevNodeState::started;
  node.state = DevNodeState::removed;
  node.problem = surprise ? "surprise-removed" : "removed";
  ++stats_.removed;
  io_.kernel().cpu().set_probe(hw::Probe::devices_started, static_cast<std::uint32_t>(started()));
  logger().info("{} removed{}", node.instance_path, surprise ? " (surprise)" : "");
  if (surprise && was_started) {
    send(node, Minor::surprise_removal, nullptr);
    // Handles still open: the drivers keep their device objects (failing every request) until
    // the last one is closed; REMOVE_DEVICE comes then.
    if (remove_after_close_ && node.pdo != nullptr && io_.open_handles(*node.pdo) > 0) {
      node.problem = "surprise-removed; REMOVE_DEVICE when its last handle is closed";
      awaiting_close_.push_back(&node);
      if (util::events().enabled())
        util::events().emit(
            "pnp", "remove_pending",
            {{"node", node.instance_path}, {"handles", io_.open_handles(*node.pdo)}});
      return;
    }
  }
  // Whatever state the stack reached, its drivers (and the bus driver, for the PDO) let go.
  finish_removal(node);
}

void PnpManager::finish_removal(DevNode& node) {
  tear_down(node);
  arbiter_.release(node.name);
}

void PnpManager::last_handle_closed(DeviceObject& pdo) {
  const auto it = std::find_if(awaiting_close_.begin(), awaiting_close_.end(),
                               [&pdo](const DevNode* n) { return n->pdo == &pdo; });
  if (it == awaiting_close_.end()) return;
  DevNode& node = **it;
  awaiting_close_.erase(it);
  io_.kernel().wait_for_single_object(tree_lock_, std::nullopt);
  if (util::events().enabled())
    util::events().emit("pnp", "remove", {{"node", node.instance_path}});
  node.problem = "surprise-removed";
  finish_removal(node);
  io_.kernel().set_event(tree_lock_);
}

void PnpManager::tear_down(DevNode& node) {
  // The drivers of the stack, to unload those whose last device this was.
  std::vector<DriverObject*> drivers;
  for (DeviceObject* d = node.pdo ? node.pdo->attached_device : nullptr; d != nullptr;
       d = d->attached_device)
    drivers.push_back(d->driver);
  send(node, Minor::remove_device, nullptr);
  for (DriverObject* d : drivers) {
    if (d->devices.empty() && !d->unloaded) {
      io_.unload_driver(*d);
      ++stats_.unloaded;
    }
  }
}

bool PnpManager::query_or_cancel(DevNode& node, Minor query, Minor cancel, std::string& why) {
  const Status q = send(node, query, nullptr);
  if (nt_success(q)) return true;
  // Vetoed: every driver that had agreed carries on (Microsoft, "Removing a Device", "Stopping
  // a Device").
  send(node, cancel, nullptr);
  why = fmt::format("vetoed: {} returned {}", to_string(query), to_string(q));
  if (util::events().enabled())
    util::events().emit(
        "pnp", "vetoed",
        {{"node", node.instance_path}, {"query", to_string(query)}, {"status", to_string(q)}});
  return false;
}

bool PnpManager::request_removal(DevNode& node, std::string& why) {
  if (node.state != DevNodeState::started) {
    why = "not started";
    return false;
  }
  io_.kernel().wait_for_single_object(tree_lock_, std::nullopt);
  const bool removed =
      query_or_cancel(node, Minor::query_remove_device, Minor::cancel_remove_device, why);
  if (removed) remove_subtree(node, false);
  io_.kernel().set_event(tree_lock_);
  return removed;
}

bool PnpManager::stop_and_restart(DevNode& node, std::string& why) {
  if (node.state != DevNodeState::started) {
    why = "not started";
    return false;
  }
  io_.kernel().wait_for_single_object(tree_lock_, std::nullopt);
  if (!query_or_cancel(node, Minor::query_stop_device, Minor::cancel_stop_device, why)) {
    io_.kernel().set_event(tree_lock_);
    return false;
  }
  send(node, Minor::stop_device, nullptr);
  node.pdo->started = false;
  arbiter_.release(node.name);
  if (util::events().enabled())
    util::events().emit("pnp", "stopped", {{"node", node.instance_path}});
  // Arbitration anew (the rebalance), then START_DEVICE with what it gave.
  std::string conflict;
  auto raw = arbiter_.assign(node.name, node.requirements, conflict);
  bool ok = false;
  if (!raw) {
    unstart(node, "CM_PROB_NORMAL_CONFLICT (12): " + conflict);
    why = node.problem;
  } else {
    node.raw_resources = *raw;
    --stats_.started;
    ok = start(node);
    if (!ok) why = node.problem;
  }
  io_.kernel().set_event(tree_lock_);
  return ok;
}

}  // namespace io
