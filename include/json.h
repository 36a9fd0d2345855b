/*
 * json.h: a small streaming JSON writer for --json output (one object on
 * stdout). It handles commas and string escaping; nesting is the caller's.
 */
#ifndef DKIM_JSON_H
#define DKIM_JSON_H

#include <stdbool.h>
#include <stdio.h>

#define JSON_DEPTH_MAX 16

struct json {
	FILE *out;
	int depth;
	bool need_comma[JSON_DEPTH_MAX];
};

void json_init(struct json *j, FILE *out);
void json_object_begin(struct json *j, const char *key);   /* key NULL inside arrays/top */
void json_object_end(struct json *j);
void json_array_begin(struct json *j, const char *key);
void json_array_end(struct json *j);
void json_string(struct json *j, const char *key, const char *value);  /* NULL -> null */
void json_int(struct json *j, const char *key, long long value);
void json_bool(struct json *j, const char *key, bool value);
void json_null(struct json *j, const char *key);
/* Ends the top-level object's line. */
void json_finish(struct json *j);

#endif
