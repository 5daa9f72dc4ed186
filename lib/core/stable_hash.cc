#include "lib/core/stable_hash.h"

namespace sipresolver {

uint64_t StableHash64(absl::string_view bytes) {
  uint64_t h = 0xcbf29ce484222325ull;  // FNV-1a 64 offset basis.
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 0x100000001b3ull;  // FNV-1a 64 prime.
  }
  // SplitMix64 finaliser: FNV alone leaves the high bits weakly mixed for
  // inputs that differ only in their last bytes.
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ull;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebull;
  h ^= h >> 31;
  return h;
}

}  // namespace sipresolver
