/* textvec: see textvec.h. */
#include "util/textvec.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#define WORD_MAX 48          /* longer words are cut (their pieces still count) */
#define WORD_WEIGHT 1.0f
#define PIECE_WEIGHT 0.35f   /* a piece says less than a whole word */

/* Words too common to say what a text is about. Sorted, for bsearch. */
static const char *const stop_words[] = {
  "a", "about", "after", "all", "also", "am", "an", "and", "any", "are", "as", "at", "be",
  "been", "but", "by", "can", "could", "did", "do", "does", "for", "from", "had", "has",
  "have", "he", "her", "his", "how", "i", "if", "in", "into", "is", "it", "its", "just",
  "me", "my", "no", "not", "of", "on", "or", "our", "she", "so", "than", "that", "the",
  "their", "them", "then", "there", "these", "they", "this", "to", "up", "us", "was", "we",
  "were", "what", "when", "which", "who", "why", "will", "with", "would", "you", "your",
};

static int is_stop(const char *w, size_t n)
{
  size_t lo = 0, hi = sizeof stop_words / sizeof stop_words[0];
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    const char *s = stop_words[mid];
    size_t sn = strlen(s);
    int c = memcmp(w, s, n < sn ? n : sn);
    if (c == 0)
      c = n < sn ? -1 : n > sn ? 1 : 0;
    if (c == 0)
      return 1;
    if (c < 0)
      hi = mid;
    else
      lo = mid + 1;
  }
  return 0;
}

int textvec_is_stop_word(const char *w, size_t n)
{
  char low[16];
  if (n >= sizeof low)
    return 0; /* no common word is that long */
  for (size_t i = 0; i < n; i++)
    low[i] = (char)(w[i] >= 'A' && w[i] <= 'Z' ? w[i] - 'A' + 'a' : w[i]);
  return is_stop(low, n);
}

static uint64_t fnv1a(const char *p, size_t n, uint64_t salt)
{
  uint64_t h = 1469598103934665603ULL ^ salt;
  for (size_t i = 0; i < n; i++) {
    h ^= (unsigned char)p[i];
    h *= 1099511628211ULL;
  }
  h ^= h >> 29; /* FNV's low bits alone spread poorly over 384 places */
  h *= 0xbf58476d1ce4e5b9ULL;
  h ^= h >> 32;
  return h;
}

static void add(float *out, const char *p, size_t n, uint64_t salt, float w)
{
  uint64_t h = fnv1a(p, n, salt);
  out[h % TEXTVEC_DIM] += (h >> 63) ? -w : w;
}

static int word_byte(unsigned char c)
{
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c >= 0x80;
}

static void add_word(float *out, const char *w, size_t n)
{
  if (is_stop(w, n))
    return;
  add(out, w, n, 0, WORD_WEIGHT);
  char framed[WORD_MAX + 2];
  framed[0] = '#';
  memcpy(framed + 1, w, n);
  framed[n + 1] = '#';
  for (size_t i = 0; i + 3 <= n + 2; i++)
    add(out, framed + i, 3, 1, PIECE_WEIGHT);
}

void textvec_embed(const char *text, size_t n, float out[TEXTVEC_DIM])
{
  memset(out, 0, TEXTVEC_DIM * sizeof *out);
  char w[WORD_MAX];
  size_t wn = 0;
  for (size_t i = 0; i <= n; i++) {
    unsigned char c = i < n ? (unsigned char)text[i] : ' ';
    if (c >= 'A' && c <= 'Z')
      c = (unsigned char)(c - 'A' + 'a');
    if (word_byte(c)) {
      if (wn < WORD_MAX)
        w[wn++] = (char)c;
      continue;
    }
    if (c == '\'' && wn) /* "user's" is "user" */
      continue;
    if (wn)
      add_word(out, w, wn);
    wn = 0;
  }
  textvec_normalize(out, TEXTVEC_DIM);
}

float textvec_dot(const float *a, const float *b, size_t n)
{
  float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    s0 += a[i] * b[i];
    s1 += a[i + 1] * b[i + 1];
    s2 += a[i + 2] * b[i + 2];
    s3 += a[i + 3] * b[i + 3];
  }
  for (; i < n; i++)
    s0 += a[i] * b[i];
  return (s0 + s1) + (s2 + s3);
}

void textvec_normalize(float *v, size_t n)
{
  double sum = 0;
  for (size_t i = 0; i < n; i++)
    sum += (double)v[i] * v[i];
  if (sum <= 0)
    return;
  float k = (float)(1.0 / sqrt(sum));
  for (size_t i = 0; i < n; i++)
    v[i] *= k;
}
