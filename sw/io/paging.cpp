// Paging I/O (IoPageRead, IoSynchronousPageWrite): the memory manager's reads and writes of
// pages, as IRPs with IRP_PAGING_IO set and an MDL describing the frame, to the top of the
// pagefile disk's stack.
#include "sw/io/io_manager.h"
#include "util/event_log.h"

namespace io {

Status IoManager::page_io(Handle handle, bool write, std::uint64_t frame, std::uint64_t offset,
                          IoStatusBlock& iosb) {
  FileObject* f = file(handle);
  DeviceObject* top = f != nullptr ? target_of(*f) : nullptr;
  if (top == nullptr) {
    iosb = {Status::no_such_device, 0};
    return iosb.status;
  }
  ke::Event done;
  kernel_.initialize_event(done, "paging_io", ke::EventType::notification, false);
  Irp* irp = allocate_irp(top->stack_size);
  irp->io_manager_owned = true;
  irp->paging_io = true;
  IoStackLocation& sl = irp->next();
  sl.major = write ? Major::write : Major::read;
  sl.rw.length = static_cast<std::uint32_t>(mm::kPageSize);
  sl.rw.offset = offset;
  irp->mdl_address = frame;  // the MDL's one PFN: paging I/O is direct I/O by nature
  irp->user_iosb = &iosb;
  irp->user_event = &done;
  if (util::events().enabled())
    util::events().emit("io", "request",
                        {{"irp", irp->id},
                         {"thread", kernel_.current_thread() ? kernel_.current_thread()->name : ""},
                         {"major", to_string(sl.major)},
                         {"device", !top->name.empty() ? top->name : top->driver->name},
                         {"length", sl.rw.length},
                         {"paging", true}});
  Status s = call_driver(*top, *irp);
  if (s == Status::pending) {
    kernel_.wait_for_single_object(done, std::nullopt);
  } else {
    free_irp(irp);  // completed before the dispatch routine returned
  }
  return iosb.status;
}

bool PagingFile::transfer(bool write, std::uint64_t slot, std::uint64_t frame, std::uint64_t) {
  if (slot >= slots()) return false;
  IoStatusBlock iosb;
  const Status s = io_.page_io(handle_, write, frame, offset_ + slot * mm::kPageSize, iosb);
  return nt_success(s) && iosb.information == mm::kPageSize;
}

bool PagingFile::read(std::uint64_t slot, std::uint64_t frame, std::uint64_t va) {
  return transfer(false, slot, frame, va);
}

bool PagingFile::write(std::uint64_t slot, std::uint64_t frame, std::uint64_t va) {
  return transfer(true, slot, frame, va);
}

}  // namespace io
