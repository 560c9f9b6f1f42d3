"""What the read-only commands and the board say when the ledger's database cannot be read, one line each."""

from __future__ import annotations

EMPTY_LEDGER = "台账还是空的：先运行 huiyin run"
MISSING_FILE = "找不到台账数据库 {path}：请检查 DATABASE_URL"
UNREADABLE = "无法读取台账数据库 {where}：{reason}。请检查 DATABASE_URL"
OTHER_REVISION = "台账数据库的结构版本是 {found}，这个版本的回音读的是 {head}：请先用这个版本运行 huiyin run 升级台账"
NO_REVISION = "（迁移之前的版本）"
