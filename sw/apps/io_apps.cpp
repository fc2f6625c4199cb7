#include "sw/apps/io_apps.h"

#include <vector>

#include "util/event_log.h"
#include "util/log.h"

namespace apps {
namespace {
util::Logger& logger() {
  static util::Logger log("app");
  return log;
}
constexpr std::uint64_t kSector = 512;
}  // namespace

std::uint32_t DiskExerciser::pattern(std::uint64_t pass, std::uint64_t byte_offset) const {
  // Different for every word of the disk and every pass: a stale or misplaced sector shows.
  return static_cast<std::uint32_t>((byte_offset / 4 + 1) * 0x9e3779b1u) ^
         static_cast<std::uint32_t>(pass * 0x85ebca6bu + p_.seed);
}

bool DiskExerciser::transfer(bool write, io::Handle h, std::uint64_t buffer, std::uint64_t lba,
                             std::uint32_t sectors) {
  io::IoStatusBlock st;
  const io::Status s = write ? io_.write(h, buffer, sectors * kSector, lba * kSector, st)
                             : io_.read(h, buffer, sectors * kSector, lba * kSector, st);
  ++counts_.requests;
  if (!io::nt_success(s) || st.information != sectors * kSector) {
    ++counts_.errors;
    logger().error("{} LBA {} x{}: {}", write ? "write" : "read", lba, sectors, io::to_string(s));
    return false;
  }
  counts_.bytes += st.information;
  return true;
}

void DiskExerciser::main() {
  hw::Processor& cpu = io_.kernel().cpu();
  io::Handle h;
  if (io_.open(p_.path, h) != io::Status::success) {
    ++counts_.errors;
    logger().error("cannot open {}", p_.path);
    return;
  }
  const std::uint32_t bytes = p_.request_sectors * kSector;
  const std::uint64_t buffer = io_.pool().allocate(bytes);
  std::uint32_t rng = p_.seed * 2654435761u + 1;
  // A request's buffer as the host builds or checks it.
  std::vector<std::uint32_t> words(bytes / 4);
  for (std::uint64_t pass = 0; p_.passes == 0 || pass < p_.passes; ++pass) {
    // Write the region, request by request, each with this pass's pattern.
    for (std::uint64_t lba = p_.first_lba; lba < p_.first_lba + p_.sectors;
         lba += p_.request_sectors) {
      const std::uint32_t n = static_cast<std::uint32_t>(
          std::min<std::uint64_t>(p_.request_sectors, p_.first_lba + p_.sectors - lba));
      for (std::uint64_t i = 0; i < n * kSector; i += 4)
        words[i / 4] = pattern(pass, lba * kSector + i);
      cpu.write_block(buffer, words.data(), n * kSector, 4);
      transfer(true, h, buffer, lba, n);
    }
    // Read it back (all of it in order, or as many random requests), checking every word;
    // with a queue depth above 1, that many asynchronous reads are in flight at once.
    const std::uint64_t requests = (p_.sectors + p_.request_sectors - 1) / p_.request_sectors;
    struct Slot {
      std::uint64_t buffer = 0, lba = 0;
      std::uint32_t n = 0;
      ke::Event done;
      io::IoStatusBlock st;
      bool busy = false;
    };
    std::vector<Slot> slots(std::max<std::uint32_t>(p_.queue_depth, 1));
    for (std::size_t k = 0; k < slots.size(); ++k) {
      slots[k].buffer = k == 0 ? buffer : io_.pool().allocate(bytes);
      io_.kernel().initialize_event(slots[k].done, "read", ke::EventType::notification, false);
    }
    auto check = [&](Slot& sl) {
      sl.busy = false;
      ++counts_.requests;
      if (!io::nt_success(sl.st.status) || sl.st.information != sl.n * kSector) {
        ++counts_.errors;
        logger().error("read LBA {} x{}: {}", sl.lba, sl.n, io::to_string(sl.st.status));
        return;
      }
      counts_.bytes += sl.st.information;
      std::uint64_t bad = 0;
      cpu.read_block(sl.buffer, words.data(), sl.n * kSector, 4);
      for (std::uint64_t i = 0; i < sl.n * kSector; i += 4)
        bad += words[i / 4] != pattern(pass, sl.lba * kSector + i);
      if (bad)
        logger().error("LBA {} x{}: {} words differ from what was written", sl.lba, sl.n, bad);
      counts_.mismatches += bad;
    };
    for (std::uint64_t r = 0; r < requests; ++r) {
      Slot& sl = slots[r % slots.size()];
      if (sl.busy) {  // the oldest request in flight: wait for it before reusing its buffer
        io_.kernel().wait_for_single_object(sl.done, std::nullopt);
        check(sl);
      }
      sl.lba = p_.first_lba + r * p_.request_sectors;
      if (p_.random) {
        rng = rng * 1664525u + 1013904223u;
        sl.lba = p_.first_lba + (rng >> 8) % requests * p_.request_sectors;
      }
      sl.n = static_cast<std::uint32_t>(
          std::min<std::uint64_t>(p_.request_sectors, p_.first_lba + p_.sectors - sl.lba));
      cpu.fill_block(sl.buffer, 0, sl.n * kSector, 4);
      sl.busy = true;
      if (slots.size() == 1) {
        io_.read(h, sl.buffer, sl.n * kSector, sl.lba * kSector, sl.st);
        check(sl);
      } else {
        io_.read(h, sl.buffer, sl.n * kSector, sl.lba * kSector, sl.st, &sl.done);
      }
    }
    for (auto& sl : slots) {
      if (!sl.busy) continue;
      io_.kernel().wait_for_single_object(sl.done, std::nullopt);
      check(sl);
    }
    for (std::size_t k = 1; k < slots.size(); ++k) io_.pool().free(slots[k].buffer);
    ++counts_.passes;
    if (util::events().enabled())
      util::events().emit("app", "pass_done", {{"pass", pass}, {"mismatches", counts_.mismatches}});
  }
  io_.pool().free(buffer);
  io_.close(h);
}

void FileCopy::main() {
  hw::Processor& cpu = io_.kernel().cpu();
  io::Handle h, to;
  if (io_.open(p_.path, h) != io::Status::success) {
    ++counts_.errors;
    return;
  }
  // The destination: another device, or the same one (a second handle to it).
  if (io_.open(p_.copy_to_path.empty() ? p_.path : p_.copy_to_path, to) != io::Status::success) {
    ++counts_.errors;
    io_.close(h);
    return;
  }
  const std::uint32_t bytes = p_.request_sectors * kSector;
  const std::uint64_t a = io_.pool().allocate(bytes), b = io_.pool().allocate(bytes);
  io::IoStatusBlock st;
  std::vector<std::uint32_t> words(bytes / 4);
  auto word = [](std::uint64_t pass, std::uint64_t offset) {
    return static_cast<std::uint32_t>((offset / 4 + 7) * 0x01000193u ^ (pass + 1) * 0x27d4eb2fu);
  };
  for (std::uint64_t pass = 0; p_.passes == 0 || pass < p_.passes; ++pass) {
    // The source first gets a pattern of this pass, so the copy has something to prove.
    for (std::uint64_t s = 0; s < p_.sectors; s += p_.request_sectors) {
      const std::uint32_t n =
          static_cast<std::uint32_t>(std::min<std::uint64_t>(p_.request_sectors, p_.sectors - s));
      for (std::uint64_t i = 0; i < n * kSector; i += 4) words[i / 4] = word(pass, s * kSector + i);
      cpu.write_block(a, words.data(), n * kSector, 4);
      ++counts_.requests;
      if (!io::nt_success(io_.write(h, a, n * kSector, (p_.first_lba + s) * kSector, st)))
        ++counts_.errors;
    }
    for (std::uint64_t s = 0; s < p_.sectors; s += p_.request_sectors) {
      const std::uint32_t n =
          static_cast<std::uint32_t>(std::min<std::uint64_t>(p_.request_sectors, p_.sectors - s));
      const std::uint64_t src = (p_.first_lba + s) * kSector, dst = (p_.copy_to_lba + s) * kSector;
      counts_.requests += 3;
      if (!io::nt_success(io_.read(h, a, n * kSector, src, st)) ||
          !io::nt_success(io_.write(to, a, n * kSector, dst, st)) ||
          !io::nt_success(io_.read(to, b, n * kSector, dst, st))) {
        ++counts_.errors;
        continue;
      }
      counts_.bytes += 2ull * n * kSector;
      cpu.read_block(b, words.data(), n * kSector, 4);
      for (std::uint64_t i = 0; i < n * kSector; i += 4)
        counts_.mismatches += words[i / 4] != word(pass, s * kSector + i);
    }
    ++counts_.passes;
  }
  io_.pool().free(a);
  io_.pool().free(b);
  io_.close(to);
  io_.close(h);
}

void SerialEcho::main() {
  io::Handle h;
  if (io_.open(path_, h) != io::Status::success) {
    ++counts_.errors;
    logger().error("cannot open {}", path_);
    return;
  }
  const std::uint64_t buffer = io_.pool().allocate(64);
  for (;;) {
    io::IoStatusBlock st;
    ++counts_.requests;
    if (!io::nt_success(io_.read(h, buffer, 64, std::nullopt, st)) || st.information == 0) {
      ++counts_.errors;
      continue;
    }
    const auto n = static_cast<std::uint32_t>(st.information);
    ++counts_.requests;
    if (!io::nt_success(io_.write(h, buffer, n, std::nullopt, st))) ++counts_.errors;
    counts_.bytes += n;
  }
}

}  // namespace apps
