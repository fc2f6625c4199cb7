#include "sw/io/io_manager.h"
#include "sw/io/log.h"
#include "util/event_log.h"

namespace io {
using detail::logger;

namespace {

// The bottom of the stack `device` is in: its PDO on a Plug and Play stack.
DeviceObject& bottom_of(DeviceObject& device) {
  DeviceObject* d = &device;
  while (d->lower != nullptr) d = d->lower;
  return *d;
}

// A request on a handle whose device has gone.
Status no_device(IoStatusBlock& iosb) {
  iosb = {Status::no_such_device, 0};
  return Status::no_such_device;
}

}  // namespace

DeviceObject* IoManager::target_of(FileObject& f) {
  // The device left the machine (REMOVE_DEVICE deleted its objects): the handle stays open
  // and every request on it fails, as on Windows after a surprise removal. Asked again after
  // every timed step of a system service: the removal may happen during one (on another
  // processor, or in a DPC that ran meanwhile).
  if (f.device->removed || f.device->driver == nullptr) return nullptr;
  DeviceObject* top = get_attached_device(*f.device);
  return top->driver != nullptr ? top : nullptr;
}

Status IoManager::simple_request(FileObject& f, Major major) {
  DeviceObject* top = target_of(f);
  if (top == nullptr) return major == Major::close ? Status::success : Status::no_such_device;
  Irp* irp = allocate_irp(top->stack_size);
  irp->io_manager_owned = true;
  irp->file = &f;
  IoStatusBlock iosb;
  irp->user_iosb = &iosb;
  irp->user_event = &f.event;
  irp->next().major = major;
  irp->next().file = &f;
  kernel_.clear_event(f.event);
  if (call_driver(*top, *irp) == Status::pending) {
    kernel_.wait_for_single_object(f.event, std::nullopt);
  } else {
    free_irp(irp);
  }
  return iosb.status;
}

FileObject* IoManager::file(Handle handle) {
  if (handle < 0 || static_cast<std::size_t>(handle) >= files_.size()) return nullptr;
  FileObject* f = files_[static_cast<std::size_t>(handle)].get();
  return f->open ? f : nullptr;
}

Status IoManager::open(const std::string& path, Handle& handle) {
  handle = kInvalidHandle;
  kernel_.cpu().consume(costs_.system_service);
  DeviceObject* device = find_device(path);
  if (device == nullptr || (device->flags & kDoDeviceInitializing))
    return Status::object_name_not_found;
  // A Plug and Play stack (a PDO at its bottom) takes creates only once its device started:
  // one left stopped by a resource conflict or a failed start is not there to open
  // (IopParseDevice: STATUS_NO_SUCH_DEVICE). Devices a driver made on its own have no PDO.
  const DeviceObject& bottom = bottom_of(*device);
  if (bottom.pdo && !bottom.started) return Status::no_such_device;
  files_.push_back(std::make_unique<FileObject>());
  FileObject* f = files_.back().get();
  // Its handle now: the create request below waits, and a thread on another processor may
  // open a file meanwhile (the last slot is then not this one).
  const auto index = static_cast<Handle>(files_.size() - 1);
  f->device = device;
  f->path = path;
  kernel_.initialize_event(f->event, path, ke::EventType::synchronization, false);
  const Status s = simple_request(*f, Major::create);
  if (!nt_success(s)) return s;
  f->open = true;
  handle = index;
  return Status::success;
}

std::size_t IoManager::open_handles(const DeviceObject& pdo) const {
  std::size_t n = 0;
  for (const auto& f : files_)
    if (f->open && &bottom_of(*f->device) == &pdo) ++n;
  return n;
}

Status IoManager::close(Handle handle) {
  FileObject* f = file(handle);
  if (f == nullptr) return Status::invalid_parameter;
  kernel_.cpu().consume(costs_.system_service);
  simple_request(*f, Major::close);
  f->open = false;
  DeviceObject& pdo = bottom_of(*f->device);
  if (on_last_close && pdo.pdo && open_handles(pdo) == 0) on_last_close(pdo);
  return Status::success;
}

// The system service's end of an IRP's path, for the event log (and so the trace's flow from the
// calling thread down the stack and back).
void IoManager::emit_request(const Irp& irp, Major major, const DeviceObject& top,
                             std::uint32_t length) {
  if (!util::events().enabled()) return;
  util::events().emit("io", "request",
                      {{"irp", irp.id},
                       {"thread", kernel_.current_thread() ? kernel_.current_thread()->name : ""},
                       {"major", to_string(major)},
                       // (a buffered copy before the IRP is sent may outlast the device)
                       {"device", !top.name.empty()       ? top.name
                                  : top.driver != nullptr ? top.driver->name
                                                          : std::string("(deleted)")},
                       {"length", length}});
}

void IoManager::emit_thread_resumed(std::uint64_t irp, const IoStatusBlock& iosb) {
  if (!util::events().enabled()) return;
  util::events().emit("io", "thread_resumed",
                      {{"irp", irp},
                       {"thread", kernel_.current_thread() ? kernel_.current_thread()->name : ""},
                       {"status", to_string(iosb.status)},
                       {"bytes", iosb.information}});
}

Status IoManager::read(Handle handle, std::uint64_t buffer, std::uint32_t length,
                       std::optional<std::uint64_t> offset, IoStatusBlock& iosb, ke::Event* event) {
  return rw(Major::read, handle, buffer, length, offset, iosb, event);
}

Status IoManager::write(Handle handle, std::uint64_t buffer, std::uint32_t length,
                        std::optional<std::uint64_t> offset, IoStatusBlock& iosb,
                        ke::Event* event) {
  return rw(Major::write, handle, buffer, length, offset, iosb, event);
}

Status IoManager::rw(Major major, Handle handle, std::uint64_t buffer, std::uint32_t length,
                     std::optional<std::uint64_t> offset, IoStatusBlock& iosb, ke::Event* event) {
  FileObject* f = file(handle);
  if (f == nullptr) return Status::invalid_parameter;
  if (target_of(*f) == nullptr) return no_device(iosb);
  kernel_.cpu().consume(costs_.system_service);
  const bool is_read = major == Major::read;
  ++(is_read ? stats_.reads : stats_.writes);
  DeviceObject* top = target_of(*f);
  if (top == nullptr) return no_device(iosb);
  const std::uint64_t off = offset ? *offset : f->current_offset;
  const std::uint64_t start_ps = kernel_.cpu().now_ps();

  // Fast I/O first: the driver answers from what it has (a cache) without an IRP, or declines.
  FastIoRoutine fast = is_read ? top->driver->fast_io.read : top->driver->fast_io.write;
  if (fast != nullptr) {
    kernel_.cpu().consume(costs_.fast_io);
    if (target_of(*f) != top) return no_device(iosb);
    IoStatusBlock fs;
    if (fast(f, off, length, buffer, &fs, top)) {
      ++stats_.fast_io_hits;
      iosb = fs;
      if (!offset) f->current_offset = off + fs.information;
      (is_read ? stats_.bytes_read : stats_.bytes_written) += fs.information;
      stats_.request_latency.add(kernel_.cpu().now_ps() - start_ps);
      if (util::events().enabled())
        util::events().emit("io", "fast_io",
                            {{"major", to_string(major)}, {"offset", off}, {"length", length}});
      if (event != nullptr) kernel_.set_event(*event);
      return fs.status;
    }
    ++stats_.fast_io_misses;
  }

  Irp* irp = allocate_irp(top->stack_size);
  irp->io_manager_owned = true;
  irp->file = f;
  IoStackLocation& sl = irp->next();
  sl.major = major;
  sl.rw.length = length;
  sl.rw.offset = off;
  sl.file = f;
  if (top->flags & kDoBufferedIo) {
    irp->system_buffer = pool_.allocate(length);
    if (irp->system_buffer == 0) {
      free_irp(irp);
      return Status::insufficient_resources;
    }
    if (!is_read) copy_memory(irp->system_buffer, buffer, length);
    irp->copy_back = is_read;
    irp->user_buffer = buffer;
  } else if (top->flags & kDoDirectIo) {
    irp->mdl_address = buffer;  // the pages are resident and physically contiguous here
  } else {
    irp->user_buffer = buffer;
  }
  irp->user_iosb = &iosb;
  irp->user_event = event != nullptr ? event : &f->event;
  if (event == nullptr) kernel_.clear_event(f->event);
  if (event != nullptr) kernel_.clear_event(*event);
  emit_request(*irp, major, *top, length);
  const std::uint64_t id = irp->id;  // the IRP is freed by the time the thread runs again
  Status s = call_driver(*top, *irp);
  if (s == Status::pending) {
    if (event != nullptr) return Status::pending;  // asynchronous: the caller waits on `event`
    kernel_.wait_for_single_object(f->event, std::nullopt);
    emit_thread_resumed(id, iosb);
    s = iosb.status;
  } else {
    // Completed before the dispatch routine returned: finish here, in the caller's context.
    if (!irp->done)
      logger().error("IRP {}: dispatch returned {} without completing it", irp->id, to_string(s));
    s = iosb.status;
    if (irp->system_buffer != 0) pool_.free(irp->system_buffer);
    free_irp(irp);
    if (event != nullptr) kernel_.set_event(*event);
  }
  if (nt_success(s)) {
    if (!offset) f->current_offset = off + iosb.information;
    (is_read ? stats_.bytes_read : stats_.bytes_written) += iosb.information;
  }
  return s;
}

Status IoManager::device_control(Handle handle, std::uint32_t code, std::uint64_t in,
                                 std::uint32_t in_length, std::uint64_t out,
                                 std::uint32_t out_length, IoStatusBlock& iosb) {
  FileObject* f = file(handle);
  if (f == nullptr) return Status::invalid_parameter;
  if (target_of(*f) == nullptr) return no_device(iosb);
  kernel_.cpu().consume(costs_.system_service);
  DeviceObject* top = target_of(*f);
  if (top == nullptr) return no_device(iosb);
  Irp* irp = allocate_irp(top->stack_size);
  irp->io_manager_owned = true;
  irp->file = f;
  IoStackLocation& sl = irp->next();
  sl.major = Major::device_control;
  sl.ioctl = {code, in_length, out_length};
  sl.file = f;
  const std::uint32_t size = std::max(in_length, out_length);
  if (size > 0) {
    irp->system_buffer = pool_.allocate(size);
    if (irp->system_buffer == 0) {
      free_irp(irp);
      return Status::insufficient_resources;
    }
    if (in_length > 0) copy_memory(irp->system_buffer, in, in_length);
    irp->copy_back = out_length > 0;
    irp->user_buffer = out;
  }
  irp->user_iosb = &iosb;
  irp->user_event = &f->event;
  kernel_.clear_event(f->event);
  emit_request(*irp, Major::device_control, *top, size);
  const std::uint64_t id = irp->id;
  Status s = call_driver(*top, *irp);
  if (s == Status::pending) {
    kernel_.wait_for_single_object(f->event, std::nullopt);
    emit_thread_resumed(id, iosb);
    return iosb.status;
  }
  s = iosb.status;
  if (irp->system_buffer != 0) pool_.free(irp->system_buffer);
  free_irp(irp);
  return s;
}

}  // namespace io
