/* handlers_web: the web app (web/, embedded into the binary at build
 * time). GET / answers index.html; GET /app/{file} one of its files, with
 * its type. Every answer says to keep everything on this origin (a
 * Content-Security-Policy that allows no outside script, style, font or
 * connection); like every answer of the server it is not stored, so an
 * upgraded binary's app is the one that runs. */
#include "http/handlers.h"
#include "http/routes.h"

#include "util/embed.h"
#include "util/mem.h"

#include <stdio.h>
#include <string.h>

static const char *type_of(const char *name)
{
  static const struct { const char *ext, *type; } types[] = {
    {".html", "text/html; charset=utf-8"}, {".js", "text/javascript; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},   {".svg", "image/svg+xml"},
    {".png", "image/png"},                 {".json", "application/json"},
  };
  const char *dot = strrchr(name, '.');
  for (size_t i = 0; dot && i < sizeof types / sizeof types[0]; i++)
    if (strcmp(dot, types[i].ext) == 0)
      return types[i].type;
  return NULL;
}

static void serve(struct http_res *res, const char *name)
{
  char path[160];
  const char *type = type_of(name);
  const struct embedded_file *f = NULL;
  if (type && !strchr(name, '/') && name[0] != '.' && strlen(name) < 100) {
    snprintf(path, sizeof path, "web/%s", name);
    f = embed_find(path);
  }
  if (!f) {
    http_reply_error(res, 404, "E_NOTFOUND", "", "no file %s in the web app", name);
    return;
  }
  res->text = one_malloc(f->len + 1);
  if (!res->text) {
    http_reply_error(res, 500, "E_NOMEM", "", "out of memory");
    return;
  }
  memcpy(res->text, f->data, f->len + 1);
  res->len = f->len;
  res->status = 200;
  res->content_type = type;
  http_res_header(res, "Content-Security-Policy", "default-src 'self'; img-src 'self' data:; "
                  "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'");
  http_res_header(res, "Referrer-Policy", "same-origin"); /* nosniff and no-store: every answer's */
}

void h_web_index(struct http_req *req, struct http_res *res)
{
  (void)req;
  serve(res, "index.html");
}

void h_web_file(struct http_req *req, struct http_res *res)
{
  serve(res, req->nparams ? req->params[0] : "");
}
