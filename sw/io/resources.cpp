#include "sw/io/resources.h"

#include <algorithm>

#include <fmt/format.h>

namespace io {

const char* to_string(ResourceType t) {
  switch (t) {
    case ResourceType::port:
      return "port";
    case ResourceType::memory:
      return "memory";
    case ResourceType::interrupt:
      return "interrupt";
    case ResourceType::dma:
      return "dma";
  }
  return "?";
}

const Resource* find_resource(const ResourceList& list, ResourceType type) {
  for (const auto& r : list)
    if (r.type == type) return &r;
  return nullptr;
}

std::string describe(const Resource& r) {
  switch (r.type) {
    case ResourceType::port:
      return fmt::format("ports {:#x}-{:#x}", r.start, r.start + r.length - 1);
    case ResourceType::memory:
      return fmt::format("memory {:#x}-{:#x}", r.start, r.start + r.length - 1);
    case ResourceType::interrupt:
      return fmt::format("IRQ {} ({}, {})", r.irq, r.level ? "level" : "edge",
                         r.share == Share::shared ? "shared" : "exclusive");
    case ResourceType::dma:
      return fmt::format("DMA channel {}", r.channel);
  }
  return "?";
}

std::string describe(const ResourceRequirement& r) {
  switch (r.type) {
    case ResourceType::port:
    case ResourceType::memory:
      if (r.maximum == r.minimum + r.length - 1)
        return fmt::format("{} {:#x}-{:#x}", r.type == ResourceType::port ? "ports" : "memory",
                           r.minimum, r.maximum);
      return fmt::format("{} bytes of {} aligned to {:#x} in {:#x}-{:#x}", r.length,
                         r.type == ResourceType::port ? "ports" : "memory", r.alignment, r.minimum,
                         r.maximum);
    case ResourceType::interrupt:
      return fmt::format("IRQ {} ({}, {})", fmt::join(r.choices, "|"), r.level ? "level" : "edge",
                         r.share == Share::shared ? "shareable" : "exclusive");
    case ResourceType::dma:
      return fmt::format("DMA channel {}", fmt::join(r.choices, "|"));
  }
  return "?";
}

void ResourceArbiter::reserve(const std::string& owner, const Resource& resource) {
  claims_.push_back({owner, resource});
}

void ResourceArbiter::release(const std::string& owner) {
  claims_.erase(std::remove_if(claims_.begin(), claims_.end(),
                               [&](const Claim& c) { return c.owner == owner; }),
                claims_.end());
}

std::vector<std::string> ResourceArbiter::irq_users(unsigned irq) const {
  std::vector<std::string> out;
  for (const auto& c : claims_)
    if (c.resource.type == ResourceType::interrupt && c.resource.irq == irq) out.push_back(c.owner);
  return out;
}

std::optional<ResourceList> ResourceArbiter::assign(const std::string& owner,
                                                    const ResourceRequirements& needs,
                                                    std::string& why) {
  std::vector<Claim> taken;  // this device's, so far
  // Every claim a new one must respect: the machine's, and this device's earlier ones.
  auto each = [&](auto fn) {
    for (const auto* list : {&claims_, &taken})
      for (const auto& c : *list) fn(c);
  };
  auto holders = [&](auto match) {
    std::vector<std::string> who;
    each([&](const Claim& c) {
      if (match(c.resource) && std::find(who.begin(), who.end(), c.owner) == who.end())
        who.push_back(c.owner);
    });
    return who.empty() ? std::string("nobody") : fmt::format("{}", fmt::join(who, ", "));
  };
  // Whether [start, start + length) is free of `type` windows; if not, `next` is the end of
  // the first one in the way.
  auto window_free = [&](ResourceType type, std::uint64_t start, std::uint64_t length,
                         std::uint64_t& next) {
    bool free = true;
    each([&](const Claim& c) {
      const Resource& h = c.resource;
      if (!free || h.type != type || h.length == 0) return;
      if (start < h.start + h.length && h.start < start + length) {
        next = h.start + h.length;
        free = false;
      }
    });
    return free;
  };
  for (const auto& need : needs) {
    Resource r;
    r.type = need.type;
    r.share = need.share;
    r.level = need.level;
    bool ok = false;
    if (need.type == ResourceType::port || need.type == ResourceType::memory) {
      const std::uint64_t align = std::max<std::uint64_t>(need.alignment, 1);
      std::uint64_t start = (need.minimum + align - 1) / align * align;
      while (need.length != 0 && start >= need.minimum && start + need.length - 1 <= need.maximum &&
             start + need.length > start) {
        std::uint64_t next = 0;
        if (window_free(need.type, start, need.length, next)) {
          ok = true;
          break;
        }
        start = (next + align - 1) / align * align;
      }
      if (!ok) {
        why = fmt::format("{}: no free window (held by {})", describe(need),
                          holders([&](const Resource& h) {
                            return h.type == need.type && h.start <= need.maximum &&
                                   need.minimum < h.start + h.length;
                          }));
        return std::nullopt;
      }
      r.start = start;
      r.length = need.length;
    } else if (need.type == ResourceType::interrupt) {
      int best = -1;
      std::size_t best_users = 0;
      for (unsigned irq : need.choices) {
        std::size_t users = 0;
        bool shareable = true;
        each([&](const Claim& c) {
          const Resource& h = c.resource;
          if (h.type != ResourceType::interrupt || h.irq != irq) return;
          ++users;
          // Sharing needs every device on the line to agree, and a level-triggered line.
          if (h.share != Share::shared || !h.level || need.share != Share::shared || !need.level)
            shareable = false;
        });
        if (users == 0) {
          best = static_cast<int>(irq);
          break;  // a free line: take it (in preference order)
        }
        if (shareable && (best < 0 || users < best_users)) {
          best = static_cast<int>(irq);
          best_users = users;
        }
      }
      if (best < 0) {
        why = fmt::format("{}: every line is held by a device that does not share it ({})",
                          describe(need), holders([&](const Resource& h) {
                            return h.type == ResourceType::interrupt &&
                                   std::find(need.choices.begin(), need.choices.end(), h.irq) !=
                                       need.choices.end();
                          }));
        return std::nullopt;
      }
      r.irq = static_cast<unsigned>(best);
    } else {
      for (unsigned ch : need.choices) {
        bool free = true;
        each([&](const Claim& c) {
          if (c.resource.type == ResourceType::dma && c.resource.channel == ch) free = false;
        });
        if (free) {
          r.channel = ch;
          ok = true;
          break;
        }
      }
      if (!ok) {
        why = fmt::format("{}: held by {}", describe(need), holders([&](const Resource& h) {
                            return h.type == ResourceType::dma &&
                                   std::find(need.choices.begin(), need.choices.end(), h.channel) !=
                                       need.choices.end();
                          }));
        return std::nullopt;
      }
    }
    taken.push_back({owner, r});
  }
  ResourceList out;
  for (auto& t : taken) {
    out.push_back(t.resource);
    claims_.push_back(std::move(t));
  }
  return out;
}

}  // namespace io
