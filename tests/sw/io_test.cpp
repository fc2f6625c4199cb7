// The I/O manager's rules on the fake processor (no SystemC): completion through a device
// stack, pending propagation, more-processing-required, double completion and stack exhaustion
// bug checks, StartIo serialization and keyed order, cancel, invalid device requests, attach
// semantics, fast I/O, asynchronous requests. Synchronous waits need threads: they are tested
// on the platform (tests/platform/io_path_test.cpp).
#include "sw/io/io_manager.h"

#include <gtest/gtest.h>

#include "tests/support/fake_processor.h"
#include "util/log.h"

namespace {

using io::DeviceObject;
using io::Irp;
using io::Status;

struct Fixture {
  tests::FakeProcessor cpu;
  hal::Hal hal;
  ke::Kernel kernel;
  io::Pool pool{0x100000, 0x100000};
  io::IoManager io;
  std::vector<std::string> trace;

  Fixture() : hal(cpu, hal::HalConfig{}), kernel(cpu, hal, ke::KernelConfig{}), io(kernel, pool) {
    util::set_log_level(util::Level::off);
    kernel.initialize();
  }
};

// The bug-check report of the last stop_status() call.
std::string& last_report() {
  static std::string r;
  return r;
}

template <typename F>
int stop_status(F f) {
  testing::internal::CaptureStderr();
  int status = -1;
  try {
    f();
  } catch (const tests::Stopped& s) {
    status = s.exit_status;
  }
  last_report() = testing::internal::GetCapturedStderr();
  return status;
}

// A layer of a device stack: passes requests down with a completion routine that records
// itself, or (the bottom) completes them, now or later.
struct Layer {
  Fixture* f = nullptr;
  std::string name;
  io::DriverObject* driver = nullptr;
  DeviceObject* device = nullptr;
  DeviceObject* lower = nullptr;
  bool set_routine = true;
  Status routine_result = Status::success;
  bool complete_now = true;  // bottom only
  Irp* held = nullptr;       // bottom: the IRP it holds when not completing now
  bool saw_pending_returned = false;

  static Status dispatch(DeviceObject* d, Irp* irp) {
    auto& l = d->ext<Layer>();
    l.f->trace.push_back("dispatch " + l.name);
    if (l.lower != nullptr) {
      l.f->io.copy_current_irp_stack_location_to_next(*irp);
      if (l.set_routine) l.f->io.set_completion_routine(*irp, &Layer::done, &l, true, true, true);
      return l.f->io.call_driver(*l.lower, *irp);
    }
    if (l.complete_now) {
      irp->io_status = {Status::success, irp->current().rw.length};
      l.f->io.complete_request(*irp);
      return Status::success;
    }
    l.f->io.mark_irp_pending(*irp);
    l.held = irp;
    return Status::pending;
  }
  static Status done(DeviceObject* d, Irp* irp, void* ctx) {
    auto& l = *static_cast<Layer*>(ctx);
    l.f->trace.push_back("completion " + l.name + (d == l.device ? "" : " (wrong device)"));
    l.saw_pending_returned = irp->pending_returned;
    // The rule for a routine: if the lower driver returned pending, mark this location too.
    if (irp->pending_returned && l.routine_result != Status::more_processing_required)
      l.f->io.mark_irp_pending(*irp);
    return l.routine_result;
  }
};

// disk <- filter1 <- filter2: three drivers, each device attached over the one before.
struct Stack {
  Fixture f;
  Layer disk, filter1, filter2;
  Stack() {
    for (Layer* l : {&disk, &filter1, &filter2}) {
      l->f = &f;
      l->name = l == &disk ? "disk" : l == &filter1 ? "filter1" : "filter2";
      l->driver = &f.io.load_driver("\\Driver\\" + l->name, [](io::DriverObject& d) {
        d.major_function[static_cast<unsigned>(io::Major::read)] = &Layer::dispatch;
        return Status::success;
      });
      l->device = f.io.create_device(*l->driver, l == &disk ? "\\Device\\Disk0" : "", l);
      l->device->flags &= ~io::kDoDeviceInitializing;
    }
    filter1.lower = f.io.attach_device_to_device_stack(*filter1.device, *disk.device);
    filter2.lower = f.io.attach_device_to_device_stack(*filter2.device, *disk.device);
  }
  Irp* read_irp() {
    Irp* irp = f.io.allocate_irp(filter2.device->stack_size);
    irp->next().major = io::Major::read;
    irp->next().rw.length = 512;
    return irp;
  }
};

TEST(Io, AttachBuildsTheStackAndIrpsGoToTheTop) {
  Stack s;
  EXPECT_EQ(s.filter1.lower, s.disk.device);
  EXPECT_EQ(s.filter2.lower, s.filter1.device) << "attached to the top, not to the named device";
  EXPECT_EQ(s.f.io.get_attached_device(*s.disk.device), s.filter2.device);
  EXPECT_EQ(s.filter2.device->stack_size, 3);
  io::Handle h;
  ASSERT_EQ(s.f.io.open("\\Device\\Disk0", h), Status::invalid_device_request)
      << "IRP_MJ_CREATE went to the top, which has no create routine";
}

TEST(Io, AttachingToAnInitializingDeviceFails) {
  Fixture f;
  auto& drv = f.io.load_driver("\\Driver\\X", [](io::DriverObject&) { return Status::success; });
  DeviceObject* lower = f.io.create_device(drv, "\\Device\\X", nullptr);
  DeviceObject* upper = f.io.create_device(drv, "", nullptr);
  EXPECT_EQ(f.io.attach_device_to_device_stack(*upper, *lower), nullptr);
  io::Handle h;
  EXPECT_EQ(f.io.open("\\Device\\X", h), Status::object_name_not_found);
  lower->flags &= ~io::kDoDeviceInitializing;
  EXPECT_EQ(f.io.attach_device_to_device_stack(*upper, *lower), lower);
}

TEST(Io, CompletionRoutinesRunBottomUpWithTheirOwnDevice) {
  Stack s;
  Irp* irp = s.read_irp();
  EXPECT_EQ(s.f.io.call_driver(*s.filter2.device, *irp), Status::success);
  EXPECT_EQ(s.f.trace,
            (std::vector<std::string>{"dispatch filter2", "dispatch filter1", "dispatch disk",
                                      "completion filter1", "completion filter2"}));
  EXPECT_TRUE(irp->done);
  EXPECT_FALSE(irp->pending_returned);
  EXPECT_EQ(irp->io_status.information, 512u);
}

TEST(Io, PendingPropagatesUpTheStack) {
  Stack s;
  s.disk.complete_now = false;
  s.filter1.set_routine = false;  // no routine: the I/O manager copies PendingReturned up
  Irp* irp = s.read_irp();
  EXPECT_EQ(s.f.io.call_driver(*s.filter2.device, *irp), Status::pending);
  EXPECT_FALSE(irp->done);
  ASSERT_EQ(s.disk.held, irp);
  irp->io_status = {Status::success, 512};
  s.f.io.complete_request(*irp);  // later, as a DPC would
  EXPECT_TRUE(s.filter2.saw_pending_returned) << "filter1's location got the bit passed up";
  EXPECT_TRUE(irp->pending_returned);
  EXPECT_TRUE(irp->done);
}

TEST(Io, MoreProcessingRequiredStopsAndALaterCompletionResumesAboveIt) {
  Stack s;
  s.filter1.routine_result = Status::more_processing_required;
  Irp* irp = s.read_irp();
  s.f.io.call_driver(*s.filter2.device, *irp);
  EXPECT_FALSE(irp->done) << "stopped at filter1's routine";
  EXPECT_EQ(s.f.trace.back(), "completion filter1");
  EXPECT_EQ(irp->current_location, 2) << "filter1's location is current again";
  s.f.io.complete_request(*irp);  // filter1 finishes its work and completes again
  EXPECT_EQ(s.f.trace.back(), "completion filter2");
  EXPECT_TRUE(irp->done);
}

TEST(Io, CompletingTwiceBugChecks) {
  Stack s;
  Irp* irp = s.read_irp();
  s.f.io.call_driver(*s.filter2.device, *irp);
  ASSERT_TRUE(irp->done);
  EXPECT_EQ(stop_status([&] { s.f.io.complete_request(*irp); }), 3);
  EXPECT_NE(last_report().find("0x00000044"), std::string::npos) << last_report();
  EXPECT_NE(last_report().find("MULTIPLE_IRP_COMPLETE_REQUESTS"), std::string::npos);
}

TEST(Io, RunningOutOfStackLocationsBugChecks) {
  Stack s;
  Irp* irp = s.f.io.allocate_irp(2);  // one short: the stack is three deep
  irp->next().major = io::Major::read;
  EXPECT_EQ(stop_status([&] { s.f.io.call_driver(*s.filter2.device, *irp); }), 3);
  EXPECT_NE(last_report().find("NO_MORE_IRP_STACK_LOCATIONS"), std::string::npos) << last_report();
}

TEST(Io, MissingDispatchRoutinesAreInvalidDeviceRequests) {
  Stack s;
  Irp* irp = s.f.io.allocate_irp(1);
  irp->next().major = io::Major::device_control;
  EXPECT_EQ(s.f.io.call_driver(*s.disk.device, *irp), Status::invalid_device_request);
  EXPECT_TRUE(irp->done);
  EXPECT_EQ(irp->io_status.status, Status::invalid_device_request);
}

// A driver with StartIo: records the order, completes only when told.
struct Serial {
  Fixture f;
  io::DriverObject* driver = nullptr;
  DeviceObject* device = nullptr;
  std::vector<std::uint64_t> started;
  std::vector<ke::Irql> start_irql;
  static void start_io(DeviceObject* d, Irp* irp) {
    auto& s = d->ext<Serial>();
    s.started.push_back(irp->sort_key ? irp->sort_key : irp->id);
    s.start_irql.push_back(s.f.kernel.irql());
  }
  // The DDK's cancel routine for a StartIo driver: the running IRP makes way for the next one;
  // a queued one leaves the queue.
  static void cancel(DeviceObject* d, Irp* irp) {
    auto& s = d->ext<Serial>();
    s.cancelled.push_back(irp->id);
    if (irp == d->current_irp) {
      s.f.io.release_cancel_spin_lock(irp->cancel_irql);
      const ke::Irql old = s.f.kernel.raise_irql(std::max(s.f.kernel.irql(), ke::kDispatchLevel));
      s.f.io.start_next_packet(*d, true);
      s.f.kernel.lower_irql(old);
    } else {
      s.f.io.remove_entry_device_queue(d->queue, *irp);
      s.f.io.release_cancel_spin_lock(irp->cancel_irql);
    }
    irp->io_status = {Status::cancelled, 0};
    s.f.io.complete_request(*irp);
  }
  std::vector<std::uint64_t> cancelled;
  Serial() {
    driver = &f.io.load_driver("\\Driver\\Q", [](io::DriverObject& d) {
      d.start_io = &Serial::start_io;
      return Status::success;
    });
    device = f.io.create_device(*driver, "\\Device\\Q", this);
    device->flags &= ~io::kDoDeviceInitializing;
  }
  Irp* irp() {
    Irp* i = f.io.allocate_irp(1);
    i->next().major = io::Major::read;
    --i->current_location;  // as if dispatched to this device
    i->current().device = device;
    return i;
  }
  void finish_current() {
    Irp* cur = device->current_irp;
    cur->io_status = {Status::success, 0};
    f.kernel.raise_irql(ke::kDispatchLevel);  // as the DPC does
    f.io.start_next_packet_by_key(*device, true, cur->sort_key);
    f.io.complete_request(*cur);
    f.kernel.lower_irql(ke::kPassiveLevel);
  }
};

TEST(Io, StartIoRunsOnePacketAtATimeAtDispatchLevelInKeyOrder) {
  Serial s;
  Irp* a = s.irp();
  Irp* b = s.irp();
  Irp* c = s.irp();
  Irp* d = s.irp();
  s.f.io.start_packet(*s.device, *a, 50, nullptr);
  s.f.io.start_packet(*s.device, *b, 70, nullptr);
  s.f.io.start_packet(*s.device, *c, 10, nullptr);
  s.f.io.start_packet(*s.device, *d, 60, nullptr);
  EXPECT_EQ(s.started, (std::vector<std::uint64_t>{50})) << "one at a time";
  EXPECT_EQ(s.f.kernel.irql(), ke::kPassiveLevel);
  for (int i = 0; i < 4; ++i) s.finish_current();
  // After 50 the sweep goes up: 60, 70, then wraps to 10.
  EXPECT_EQ(s.started, (std::vector<std::uint64_t>{50, 60, 70, 10}));
  for (ke::Irql l : s.start_irql) EXPECT_EQ(l, ke::kDispatchLevel);
  EXPECT_FALSE(s.device->queue.busy);
  EXPECT_EQ(s.device->current_irp, nullptr);
}

TEST(Io, CancelRemovesAQueuedIrpAndCompletesItCancelled) {
  Serial s;
  Irp* a = s.irp();
  Irp* b = s.irp();
  s.f.io.set_start_io_attributes(*s.device, false, true);  // non-cancelable StartIo
  s.f.io.start_packet(*s.device, *a, std::nullopt, &Serial::cancel);
  s.f.io.start_packet(*s.device, *b, std::nullopt, &Serial::cancel);
  EXPECT_EQ(a->cancel_routine, nullptr) << "non-cancelable StartIo: the routine is cleared";
  EXPECT_TRUE(b->queued);
  EXPECT_TRUE(s.f.io.cancel_irp(*b));
  EXPECT_TRUE(b->done);
  EXPECT_EQ(b->io_status.status, Status::cancelled);
  EXPECT_TRUE(s.device->queue.entries.empty());
  EXPECT_EQ(s.f.kernel.irql(), ke::kPassiveLevel) << "the routine released the cancel lock";
  EXPECT_FALSE(s.f.io.cancel_irp(*a)) << "no cancel routine: only the flag is set";
  EXPECT_TRUE(a->cancel);
  EXPECT_EQ(s.f.kernel.irql(), ke::kPassiveLevel);
}

// IoStartPacket (ReactOS ntoskrnl/io/iomgr/device.c): an IRP whose Cancel flag is already set
// when it would be queued goes to its cancel routine, not into the queue; StartIo never sees it.
TEST(Io, StartPacketHandsAnAlreadyCancelledIrpToItsCancelRoutine) {
  Serial s;
  Irp* a = s.irp();
  Irp* b = s.irp();
  s.f.io.start_packet(*s.device, *a, std::nullopt, &Serial::cancel);
  b->cancel = true;  // IoCancelIrp ran before the driver's dispatch routine queued it
  s.f.io.start_packet(*s.device, *b, std::nullopt, &Serial::cancel);
  EXPECT_FALSE(b->queued);
  EXPECT_TRUE(b->done);
  EXPECT_EQ(b->io_status.status, Status::cancelled);
  EXPECT_EQ(s.cancelled, (std::vector<std::uint64_t>{b->id}));
  EXPECT_EQ(s.f.kernel.irql(), ke::kPassiveLevel) << "the routine released the cancel lock";
  s.finish_current();
  EXPECT_EQ(s.started, (std::vector<std::uint64_t>{a->id})) << "b was never started";
}

// IoStartPacket / IoStartNextPacket with default StartIo attributes (cancelable): the cancel
// routine stays on the IRP StartIo runs, so cancelling the running request reaches the driver.
TEST(Io, StartIoIsCancelableByDefault) {
  Serial s;
  Irp* a = s.irp();
  Irp* b = s.irp();
  Irp* c = s.irp();
  s.f.io.start_packet(*s.device, *a, std::nullopt, &Serial::cancel);
  s.f.io.start_packet(*s.device, *b, std::nullopt, &Serial::cancel);
  s.f.io.start_packet(*s.device, *c, std::nullopt, &Serial::cancel);
  EXPECT_EQ(a->cancel_routine, &Serial::cancel) << "the running IRP stays cancelable";
  EXPECT_TRUE(s.f.io.cancel_irp(*a));
  EXPECT_TRUE(a->done);
  EXPECT_EQ(a->io_status.status, Status::cancelled);
  EXPECT_EQ(s.device->current_irp, b) << "the cancel routine started the next packet";
  EXPECT_EQ(b->cancel_routine, &Serial::cancel) << "start_next_packet(cancelable) keeps it";
  EXPECT_EQ(s.f.kernel.irql(), ke::kPassiveLevel);
  // Non-cancelable StartIo: start_next_packet(cancelable) clears the routine of the IRP it starts.
  s.f.io.set_start_io_attributes(*s.device, false, true);
  s.finish_current();
  EXPECT_EQ(s.device->current_irp, c);
  EXPECT_EQ(c->cancel_routine, nullptr);
  EXPECT_FALSE(s.f.io.cancel_irp(*c));
  EXPECT_EQ(s.started, (std::vector<std::uint64_t>{a->id, b->id, c->id}));
}

// IoSetStartIoAttributes(DeferredStartIo): a StartIo that completes its IRP at once and starts
// the next packet from inside itself does not recurse; the next StartIo runs after it returns.
TEST(Io, DeferredStartIoDoesNotNest) {
  Serial s;
  s.f.io.set_start_io_attributes(*s.device, true, false);
  int depth = 0, max_depth = 0;
  static thread_local std::function<void(DeviceObject*, Irp*)> body;
  body = [&](DeviceObject* d, Irp* irp) {
    max_depth = std::max(max_depth, ++depth);
    irp->io_status = {Status::success, 0};
    s.f.io.start_next_packet(*d, false);
    s.f.io.complete_request(*irp);
    --depth;
  };
  s.driver->start_io = [](DeviceObject* d, Irp* irp) { body(d, irp); };
  // Queue three behind a busy device, then let them run.
  s.device->queue.busy = true;
  Irp* a = s.irp();
  Irp* b = s.irp();
  Irp* c = s.irp();
  for (Irp* i : {a, b, c}) s.f.io.start_packet(*s.device, *i, std::nullopt, nullptr);
  s.f.kernel.raise_irql(ke::kDispatchLevel);
  s.f.io.start_next_packet(*s.device, false);
  s.f.kernel.lower_irql(ke::kPassiveLevel);
  EXPECT_TRUE(a->done && b->done && c->done);
  EXPECT_EQ(max_depth, 1) << "StartIo ran nested inside itself";
  EXPECT_FALSE(s.device->queue.busy);
}

// IoConnectInterrupt from a translated resource, and the device's DpcForIsr by IoRequestDpc:
// the ISR queues it with the current IRP, and it runs at DISPATCH_LEVEL with the device, that
// IRP and the context when IRQL drops. A resource whose IRQL does not match its vector, or a
// vector taken by a non-sharing object, is refused.
TEST(Io, ConnectInterruptFromAResourceAndRequestDpcForIsr) {
  Serial s;
  struct Seen {
    DeviceObject* device = nullptr;
    Irp* irp = nullptr;
    void* context = nullptr;
    ke::Irql irql = 0;
    int isrs = 0, dpcs = 0;
  };
  static Seen seen;
  seen = {};
  s.f.io.initialize_dpc_request(*s.device, [](ke::Dpc*, DeviceObject* d, Irp* irp, void* ctx) {
    seen.device = d;
    seen.irp = irp;
    seen.context = ctx;
    seen.irql = d->ext<Serial>().f.kernel.irql();
    ++seen.dpcs;
  });
  const io::InterruptResource r = s.f.io.translate_interrupt(5, ke::InterruptMode::latched, false);
  EXPECT_EQ(r.vector, 0x35);
  EXPECT_EQ(r.irql, 22);
  ke::Interrupt* object = nullptr;
  auto isr = [](ke::Interrupt*, void* context) {
    auto& q = *static_cast<Serial*>(context);
    ++seen.isrs;
    q.f.io.request_dpc(*q.device, q.device->current_irp, &seen);
    return true;
  };
  ASSERT_EQ(s.f.io.connect_interrupt(object, "q", isr, &s, r), Status::success);
  ASSERT_NE(object, nullptr);
  EXPECT_EQ(object->irq, 5u);
  EXPECT_TRUE(object->connected);
  Irp* a = s.irp();
  s.f.io.start_packet(*s.device, *a, std::nullopt, nullptr);
  s.f.cpu.raise(r.vector);
  EXPECT_EQ(seen.isrs, 1);
  EXPECT_EQ(seen.dpcs, 1);
  EXPECT_EQ(seen.device, s.device);
  EXPECT_EQ(seen.irp, a);
  EXPECT_EQ(seen.context, &seen);
  EXPECT_EQ(seen.irql, ke::kDispatchLevel);

  ke::Interrupt* other = nullptr;
  io::InterruptResource wrong = r;
  wrong.irql = 20;
  EXPECT_EQ(s.f.io.connect_interrupt(other, "wrong", isr, &s, wrong), Status::invalid_parameter);
  EXPECT_EQ(other, nullptr);
  EXPECT_EQ(s.f.io.connect_interrupt(other, "taken", isr, &s, r), Status::invalid_parameter)
      << "the vector is connected without sharing";
  s.f.io.disconnect_interrupt(object);
  EXPECT_FALSE(object->connected);
}

// A device whose driver has a fast I/O path that succeeds for offsets below 4096.
struct Fast {
  Fixture f;
  int dispatched = 0;
  DeviceObject* device = nullptr;
  static bool fast_read(io::FileObject*, std::uint64_t offset, std::uint32_t length, std::uint64_t,
                        io::IoStatusBlock* st, DeviceObject*) {
    if (offset >= 4096) return false;
    *st = {Status::success, length};
    return true;
  }
  static Status dispatch(DeviceObject* d, Irp* irp) {
    ++d->ext<Fast>().dispatched;
    irp->io_status = {Status::success, irp->current().rw.length};
    d->driver->io->complete_request(*irp);
    return Status::success;
  }
  Fast() {
    auto& drv = f.io.load_driver("\\Driver\\F", [](io::DriverObject& d) {
      d.major_function[static_cast<unsigned>(io::Major::create)] = &Fast::dispatch;
      d.major_function[static_cast<unsigned>(io::Major::read)] = &Fast::dispatch;
      d.fast_io.read = &Fast::fast_read;
      return Status::success;
    });
    device = f.io.create_device(drv, "\\Device\\F", this);
    device->flags = io::kDoDirectIo;
    f.io.create_symbolic_link("\\??\\F:", "\\Device\\F");
  }
};

TEST(Io, FastIoCompletesWithoutAnIrpAndFallsBackWhenItCannot) {
  Fast s;
  io::Handle h;
  ASSERT_EQ(s.f.io.open("\\??\\F:", h), Status::success) << "through the symbolic link";
  const auto irps = s.f.io.stats().irps_allocated;
  io::IoStatusBlock st;
  EXPECT_EQ(s.f.io.read(h, 0x1000, 512, 0, st), Status::success);
  EXPECT_EQ(st.information, 512u);
  EXPECT_EQ(s.f.io.stats().irps_allocated, irps) << "zero IRPs";
  EXPECT_EQ(s.dispatched, 1) << "only the create";
  EXPECT_EQ(s.f.io.read(h, 0x1000, 512, 8192, st), Status::success);
  EXPECT_EQ(s.f.io.stats().irps_allocated, irps + 1) << "the IRP path when fast I/O declines";
  EXPECT_EQ(s.dispatched, 2);
  EXPECT_EQ(s.f.io.stats().fast_io_hits, 1u);
  EXPECT_EQ(s.f.io.stats().fast_io_misses, 1u);
}

TEST(Io, AsynchronousRequestsReturnPendingAndSignalTheirEvent) {
  Stack s;
  s.disk.complete_now = false;
  s.disk.driver->major_function[static_cast<unsigned>(io::Major::create)] = [](DeviceObject* d,
                                                                               Irp* irp) {
    irp->io_status = {Status::success, 0};
    d->driver->io->complete_request(*irp);
    return Status::success;
  };
  for (Layer* l : {&s.filter1, &s.filter2})
    l->driver->major_function[static_cast<unsigned>(io::Major::create)] = [](DeviceObject* d,
                                                                             Irp* irp) {
      d->driver->io->skip_current_irp_stack_location(*irp);
      return d->driver->io->call_driver(*d->ext<Layer>().lower, *irp);
    };
  io::Handle h;
  ASSERT_EQ(s.f.io.open("\\Device\\Disk0", h), Status::success);
  ke::Event done;
  s.f.kernel.initialize_event(done, "done", ke::EventType::notification, false);
  io::IoStatusBlock st;
  EXPECT_EQ(s.f.io.read(h, 0x2000, 512, 0, st, &done), Status::pending);
  EXPECT_FALSE(done.signaled);
  ASSERT_NE(s.disk.held, nullptr);
  s.disk.held->io_status = {Status::success, 512};
  s.f.io.complete_request(*s.disk.held);
  EXPECT_TRUE(done.signaled);
  EXPECT_EQ(st.status, Status::success);
  EXPECT_EQ(st.information, 512u);
}

// The device leaves while a read is on its way (the system service's own cycles, during which a
// surprise removal deletes the stack): the read fails with STATUS_NO_SUCH_DEVICE and nothing
// calls into a deleted device (it used to dereference the deleted device's driver).
TEST(Io, ADeviceRemovedDuringTheSystemServiceFailsTheReadAndLaterOnes) {
  Stack s;
  s.disk.complete_now = false;
  auto create = [](DeviceObject* d, Irp* irp) {
    if (d->ext<Layer>().lower != nullptr) {
      d->driver->io->skip_current_irp_stack_location(*irp);
      return d->driver->io->call_driver(*d->ext<Layer>().lower, *irp);
    }
    irp->io_status = {Status::success, 0};
    d->driver->io->complete_request(*irp);
    return Status::success;
  };
  for (Layer* l : {&s.disk, &s.filter1, &s.filter2})
    l->driver->major_function[static_cast<unsigned>(io::Major::create)] = create;
  io::Handle h;
  ASSERT_EQ(s.f.io.open("\\Device\\Disk0", h), Status::success);
  // REMOVE_DEVICE's end for each driver, top down: detach from the one below, delete.
  auto remove_stack = [&s] {
    for (Layer* l : {&s.filter2, &s.filter1, &s.disk}) {
      if (l->lower != nullptr) s.f.io.detach_device(*l->lower);
      s.f.io.delete_device(*l->device);
      l->device->removed = true;
    }
  };
  const auto dispatches = s.f.io.stats().dispatches;
  ke::Event done;
  s.f.kernel.initialize_event(done, "done", ke::EventType::notification, false);
  io::IoStatusBlock st;
  s.f.cpu.on_consume = remove_stack;
  EXPECT_EQ(s.f.io.read(h, 0x2000, 512, 0, st, &done), Status::no_such_device);
  EXPECT_EQ(st.status, Status::no_such_device);
  EXPECT_EQ(s.f.io.stats().dispatches, dispatches) << "no IRP went down a deleted stack";
  EXPECT_EQ(s.disk.held, nullptr);
  io::IoStatusBlock st2;
  EXPECT_EQ(s.f.io.read(h, 0x2000, 512, 0, st2, &done), Status::no_such_device) << "later reads";
  EXPECT_EQ(s.f.io.close(h), Status::success);
}

// An IRP sent to a device object whose driver deleted it completes with STATUS_NO_SUCH_DEVICE
// through the sender's completion routine instead of calling a dispatch routine.
TEST(Io, CallingADeletedDeviceCompletesTheIrpWithNoSuchDevice) {
  Stack s;
  s.f.io.delete_device(*s.disk.device);
  Irp* irp = s.read_irp();
  EXPECT_EQ(s.f.io.call_driver(*s.filter2.device, *irp), Status::no_such_device);
  EXPECT_EQ(s.f.trace, (std::vector<std::string>{"dispatch filter2", "dispatch filter1",
                                                 "completion filter1", "completion filter2"}));
  EXPECT_EQ(irp->io_status.status, Status::no_such_device);
  EXPECT_TRUE(irp->done);
}

}  // namespace
