#!/usr/bin/env python3
"""Writes the seed corpora of tests/fuzz/corpus/ (run once; the files are committed).

Seeds are small real inputs taken from the unit tests, examples/ and docs/. Each file is
named by what it is, so a failing seed reads well in a log."""
import io, json, os, tarfile, gzip

HERE = os.path.dirname(os.path.abspath(__file__))

def put(target, name, data):
    d = os.path.join(HERE, 'corpus', target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), 'wb') as f:
        f.write(data)

ZONES = ['', 'UTC', 'Europe/Berlin', 'America/New_York', 'Asia/Tokyo', 'Australia/Lord_Howe',
         'Asia/Kolkata']

# ---- cron
crons = ['* * * * *', '*/15 * * * *', '0 9 * * 1', '0 0 * * Sun', '0 0 */2 * 1', '0 0 1 * MON',
         '0 0 1 mar-may/2 *', '0 0 29 2 *', '0 1-10/3 * * *', '0 12 31 * *',
         '0 9 * JAN,jul mon-FRI', '10/20 * * * *', '30 2 * * *', '30 6 1-2,15 3,6-7 *',
         '5,30 2-3 * * *', '@ANNUALLY', '@daily', '@hourly', '@midnight', '@monthly', '@weekly',
         '0 0 * * 5-7', '  0   12 *\t* *  ']
for i, c in enumerate(crons):
    put('cron', 'cron%02d' % i, c + ('\n' + ZONES[i % len(ZONES)] if i % 3 else ''))

# ---- rrule
rrules = [
    'FREQ=DAILY', 'FREQ=DAILY;BYHOUR=2;BYMINUTE=30', 'FREQ=MINUTELY;INTERVAL=15;BYHOUR=9',
    'FREQ=DAILY;BYDAY=SA,SU;BYMONTH=12;BYHOUR=10;BYMINUTE=0;BYSECOND=0,30',
    'FREQ=WEEKLY;BYDAY=MO,WE;BYHOUR=9;BYMINUTE=0', 'FREQ=MONTHLY;BYMONTHDAY=-1',
    'FREQ=MONTHLY;BYDAY=-1FR', 'FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29', 'FREQ=DAILY;COUNT=3;UNTIL=20270101',
    'FREQ=DAILY;BYHOUR=9;DTSTART=20260301T000000',
    'DTSTART:20260101T090000\nRRULE:FREQ=DAILY;COUNT=3',
    'DTSTART:20260105T090000\nRRULE:FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,TH',
    'DTSTART:20260105T090000 RRULE:FREQ=WEEKLY;INTERVAL=2;WKST=SU;BYDAY=MO,SU',
    'DTSTART;TZID=Europe/Berlin:20260301T093000\nRRULE:FREQ=DAILY',
    'DTSTART:20240229T120000 RRULE:FREQ=YEARLY',
    'DTSTART:20260101T000000 RRULE:FREQ=HOURLY;INTERVAL=6;BYMINUTE=30',
    'DTSTART:20260101T090000 RRULE:FREQ=DAILY;INTERVAL=3;UNTIL=20260110T090000',
    'DTSTART:20260301T083000Z\nRRULE:FREQ=DAILY', 'DTSTART:20260301\r\nRRULE:FREQ=DAILY',
    'FREQ=SECONDLY;INTERVAL=30',
]
for i, r in enumerate(rrules):
    # The zone is the part after the last newline when there is one.
    z = ZONES[i % len(ZONES)]
    put('rrule', 'rrule%02d' % i, r + '\n' + z if (i % 2 or '\n' in r) else r)

# ---- time: duration \n timestamp \n zone
durs = ['0', '1.5h', '10s', '1d2h3m4s', '1h30m', '250ms', '2d', '5m', '7', '3600', '90m', '1d']
times = ['2026-01-05T05:00:00Z', '2026-11-25T23:19:50-05:30', '2026-11-26 04:49:50+00',
         '2026-11-26 04:49:50.5+00', '2026-11-26 05:49:50.123456+01', '2026-11-26',
         '2026-11-26T04:49:50+00:00', '2026-11-26T06:49:50+0200', '2026-11-26t04:49:50z',
         '2026-01-05T06:00:00+01:00', '', '2026-03-29T01:30:00Z']
for i, d in enumerate(durs):
    put('time', 'time%02d' % i, '%s\n%s\n%s' % (d, times[i % len(times)], ZONES[i % len(ZONES)]))

# ---- params: schema \0 parameters \0 overrides
schema = json.dumps([
    {"name": "months", "type": "int", "default": 2, "minimum": 1, "maximum": 24},
    {"name": "val_month", "type": "int", "required": True},
    {"name": "model_path", "type": "string", "default": "/tmp/model.txt"},
    {"name": "rate", "type": "double", "minimum": 0, "maximum": 1},
    {"name": "dry_run", "type": "bool", "required": False}])
put('params', 'fixed_schema_object', '\0{"rate": 0.5, "months": 3}\0dry_run=yes')
put('params', 'fixed_schema_text', '\0{"rate": "0.25"}\0months=12\ncsv=a.csv')
put('params', 'fixed_schema_missing', '\0{}\0')
put('params', 'taxi', schema + '\0{"months":2,"val_month":3,"model_path":"/tmp/m.txt"}\0rate=0.1')
put('params', 'taxi_overrides', schema + '\0\0val_month=3\nmonths=24\ndry_run=off')
put('params', 'bad_type', schema + '\0{"months":"abc","val_month":3}\0')
put('params', 'empty_schema', '[]\0{}\0')

# ---- deployment spec (JSON, as --weft-describe prints it)
spec = {"name": "weekly", "flow_name": "taxi_training", "description": "retrain",
        "version": "1", "entrypoint": ["./taxi_training"], "include": ["taxi_training"],
        "storage": "server", "schedule": {"cron": "0 6 * * 1", "timezone": "Europe/Berlin"},
        "parameters": {"months": 2, "val_month": 3, "model_path": "/tmp/model.txt"},
        "tags": ["ml"], "work_queue": "ml", "runner": {"type": "process"},
        "catchup": {"policy": "latest", "max_lateness": "6h"}, "paused": False,
        "timeout": "30m", "parameters_schema": json.loads(schema)}
put('deployment_spec_json', 'taxi', json.dumps([spec]))
put('deployment_spec_json', 'taxi_object', json.dumps(spec, indent=1))
put('deployment_spec_json', 'interval', json.dumps([{"name": "n", "flow_name": "f",
    "entrypoint": ["./f"], "schedule": {"interval": "1d", "anchor": "2026-01-05T06:00:00+01:00",
    "timezone": "Europe/Berlin"}, "catchup": {"policy": "all", "max_lateness": 3600}}]))
put('deployment_spec_json', 'rrule_docker', json.dumps([{"name": "r", "flow_name": "f",
    "entrypoint": "./f --param x=1", "schedule": {"rrule": "FREQ=WEEKLY;BYDAY=MO,WE;BYHOUR=9;BYMINUTE=0",
    "timezone": "America/New_York"}, "runner": {"type": "docker", "image": "python:3.12-slim",
    "network": "host", "env": {"A": "1"}}, "timeout": 60}]))
put('deployment_spec_json', 'kubernetes', json.dumps([{"name": "k", "flow_name": "f",
    "entrypoint": ["./f"], "runner": {"type": "kubernetes", "image": "registry.example/f:1",
    "namespace": "jobs"}, "schedule": None, "paused": True, "tags": ["a", "b"]}]))
put('deployment_spec_json', 'empty', '[]')

# ---- deployment spec (YAML)
with open(os.path.join(HERE, '..', '..', 'examples', 'taxi_training', 'deploy.yaml')) as f:
    put('deployment_spec_yaml', 'taxi_training', f.read())
put('deployment_spec_yaml', 'list', '''deployments:
  - name: hourly
    flow_name: etl
    entrypoint: ["./etl", "--fast"]
    schedule: {interval: 1h}
    parameters: {n: 3, ratio: 0.5, on: true, s: "007"}
  - name: weekly
    flow_name: etl
    entrypoint: ./etl
    schedule: {rrule: "FREQ=WEEKLY;BYDAY=MO,WE;BYHOUR=9;BYMINUTE=0", timezone: America/New_York}
    runner: {type: docker, image: "python:3.12", env: {A: "1"}}
    timeout: 30m
''')
put('deployment_spec_yaml', 'sequence', '''- name: a
  flow_name: f
  entrypoint: [./f]
  schedule: {interval: 1d, anchor: "2026-01-05T06:00:00+01:00", timezone: Europe/Berlin}
  catchup: {policy: none}
- name: b
  flow_name: f
  entrypoint: [./f]
  paused: yes
  tags: [x, ~, 3]
''')
put('deployment_spec_yaml', 'anchors', '''base: &b {flow_name: f, entrypoint: [./f]}
name: x
<<: *b
description: !!str 12
''')

# ---- JSON API bodies
for i, b in enumerate(['{}', '{"parameters": {"months": 3, "csv": "a.csv"}, "tags": ["manual", "x"]}',
                       '{"message": "cancelled from the dashboard"}', '{"parameters": []}',
                       '{"parameters": {"rate": 1e3, "nested": {"a": [1, 2.5, null, true]}}}',
                       '[1,2,3]', '"text"', '{"tags": [1]}', '{"parameters": {"months": "2"}}',
                       '{"a": "\\u00e9\\ud83d\\ude00"}']):
    put('json_api', 'body%02d' % i, b)

# ---- bundles: a deterministic tar.gz like PackBundle writes, and a few odd ones
def tar_bytes(entries, compress=True):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode='w', format=tarfile.PAX_FORMAT) as t:
        for name, kind, data in entries:
            ti = tarfile.TarInfo(name)
            ti.mtime = 0
            if kind == 'file':
                ti.size = len(data); ti.mode = 0o755 if name.endswith('.sh') else 0o644
                t.addfile(ti, io.BytesIO(data))
            elif kind == 'dir':
                ti.type = tarfile.DIRTYPE; ti.mode = 0o755; t.addfile(ti)
            elif kind == 'symlink':
                ti.type = tarfile.SYMTYPE; ti.linkname = data; t.addfile(ti)
            elif kind == 'hardlink':
                ti.type = tarfile.LNKTYPE; ti.linkname = data; t.addfile(ti)
    raw = buf.getvalue()
    return gzip.compress(raw, mtime=0) if compress else raw

put('bundle', 'flow_tgz', tar_bytes([('run.sh', 'file', b'#!/bin/sh\necho hi\n'),
                                     ('data/a.csv', 'file', b'a,b\n1,2\n')]))
put('bundle', 'dirs_and_links_tgz', tar_bytes([('d', 'dir', b''), ('d/f.txt', 'file', b'x'),
                                               ('d/l', 'symlink', 'f.txt'), ('h', 'hardlink', 'd/f.txt')]))
put('bundle', 'plain_tar', tar_bytes([('a.txt', 'file', b'hello')], compress=False))
put('bundle', 'escape_symlink_tgz', tar_bytes([('x', 'symlink', '../../etc'), ('x/passwd', 'file', b'no')]))
put('bundle', 'dotdot_tgz', tar_bytes([('../evil', 'file', b'no')]))
put('bundle', 'overwrite_tgz', tar_bytes([('a', 'file', b'1'), ('a', 'file', b'2')]))
