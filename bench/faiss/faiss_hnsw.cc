// faiss_hnsw: the FAISS peer of bench_search's vector benchmark
// (scripts/bench_search.sh): the same base vectors, queries and exact top
// 10 (files bench_search wrote), FAISS's IndexHNSWFlat with the same M (16),
// efConstruction (200) and metric (inner product), queries one at a time on
// one thread as ONE answers them. Prints one JSON object per line.
#include <faiss/IndexHNSW.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

static std::vector<char> load(const std::string &path)
{
  std::FILE *f = std::fopen(path.c_str(), "rb");
  if (!f) {
    std::fprintf(stderr, "faiss_hnsw: cannot read %s\n", path.c_str());
    std::exit(1);
  }
  std::fseek(f, 0, SEEK_END);
  long n = std::ftell(f);
  std::fseek(f, 0, SEEK_SET);
  std::vector<char> b(static_cast<size_t>(n));
  if (std::fread(b.data(), 1, b.size(), f) != b.size())
    std::exit(1);
  std::fclose(f);
  return b;
}

static double now_ms()
{
  using namespace std::chrono;
  return duration<double, std::milli>(steady_clock::now().time_since_epoch()).count();
}

int main(int argc, char **argv)
{
  if (argc != 3) {
    std::fprintf(stderr, "usage: faiss_hnsw DIR DIM\n");
    return 2;
  }
  std::string dir = argv[1];
  int d = std::atoi(argv[2]);
  const int k = 10;
  std::vector<char> b = load(dir + "/base.f32"), q = load(dir + "/queries.f32"),
                    t = load(dir + "/truth.i32");
  size_t n = b.size() / sizeof(float) / d, nq = q.size() / sizeof(float) / d;
  const float *base = reinterpret_cast<const float *>(b.data());
  const float *qs = reinterpret_cast<const float *>(q.data());
  const int32_t *truth = reinterpret_cast<const int32_t *>(t.data());
  faiss::IndexHNSWFlat index(d, 16, faiss::METRIC_INNER_PRODUCT);
  index.hnsw.efConstruction = 200;
  double t0 = now_ms();
  index.add(static_cast<faiss::Index::idx_t>(n), base);
  std::printf("{\"what\":\"faiss_build\",\"seconds\":%.2f}\n", (now_ms() - t0) / 1000.0);
  const int efs[] = {16, 32, 64, 96, 128, 192, 256, 384, 512};
  std::vector<float> dist(k);
  std::vector<faiss::Index::idx_t> lab(k);
  for (int ef : efs) {
    index.hnsw.efSearch = ef;
    size_t found = 0;
    t0 = now_ms();
    for (size_t i = 0; i < nq; i++) {
      index.search(1, qs + i * d, k, dist.data(), lab.data());
      for (int a = 0; a < k; a++)
        for (int j = 0; j < k; j++)
          found += lab[a] == truth[i * k + j];
    }
    double ms = (now_ms() - t0) / static_cast<double>(nq);
    std::printf("{\"what\":\"faiss_hnsw\",\"ef\":%d,\"ms_per_query\":%.4f,\"recall\":%.4f}\n", ef,
                ms, static_cast<double>(found) / static_cast<double>(nq * k));
  }
  return 0;
}
