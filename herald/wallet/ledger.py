"""The ledger's hot path: a hold opened, posted or voided in a few SQL statements, written once per
database from the models' metadata and run with parameters adapted by the models' own fields.

Building ORM queries cost more than the database work here, so these statements skip it. The
guarantees stay in the database: the account's CHECK constraints (balance >= held >= 0), the
conditional UPDATEs that let a transaction leave PENDING and its hold leave ``active`` once, one ledger
entry per transaction and kind. Callers run these inside ``transaction.atomic()``; the account row
stays locked from its UPDATE to the commit. Money arithmetic in SQL is wrapped in ROUND(..., 2): SQLite
keeps decimals as floats, and rounding gives back the float that storing the exact two-place value
gives, so the CHECK constraints compare like with like.
"""

# ruff: noqa: S608 - the SQL is built from the models' table and column names, quoted by the backend;
# every value is a bound parameter

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Field, Model

from herald.wallet.models import Account, Hold, LedgerEntry, Transaction

CENT = Decimal("0.01")
Converter = Callable[[Any, Any, Any], Any]
ACCOUNT_COLUMNS = ("id", "user_id", "balance", "held")


@dataclass(frozen=True, slots=True)
class AccountRow:
    """The account as the last ledger UPDATE left it (inside the caller's transaction)."""

    id: int
    user_id: int
    balance: Decimal
    held: Decimal

    def instance(self, alias: str = DEFAULT_DB_ALIAS) -> Account:
        # a loaded-fields-only instance (like ``.only()``), so txn.account.user_id needs no query
        return Account.from_db(alias, list(ACCOUNT_COLUMNS), [self.id, self.user_id, self.balance, self.held])


@dataclass(frozen=True, slots=True)
class _Insert:
    sql: str
    fields: tuple[Field[Any, Any], ...]  # every concrete field but an auto primary key


@dataclass(frozen=True, slots=True)
class _Statements:
    """Every statement of the hot path for one database (and whether it has RETURNING)."""

    returning: bool
    hold_open: str
    hold_post: str
    hold_void: str
    account_by_user: str
    account_by_id: str
    transaction_end: str
    transaction_read: str
    hold_resolve: str
    inserts: dict[type[Model], _Insert]
    transaction_converters: tuple[tuple[Any, tuple[Converter, ...]], ...]
    # PostgreSQL: each of hold_open and hold_resolve as one statement (data-modifying WITH)
    open_combined: str | None = None
    resolve_combined: str | None = None


_statements_by_db: dict[tuple[str, str, bool], _Statements] = {}


def _db() -> tuple[BaseDatabaseWrapper, _Statements]:
    conn = connections[DEFAULT_DB_ALIAS]
    # UPDATE/INSERT ... RETURNING: PostgreSQL, and SQLite from 3.35 (Django's flag for that support)
    returning = bool(conn.features.can_return_columns_from_insert)
    key = (conn.alias, conn.vendor, returning)
    statements = _statements_by_db.get(key)
    if statements is None:
        statements = _statements_by_db[key] = _statements_build(conn, returning)
    return conn, statements


def _statements_build(conn: BaseDatabaseWrapper, returning: bool) -> _Statements:
    q = conn.ops.quote_name

    def col(model: type[Model], name: str) -> str:
        return str(q(str(model._meta.get_field(name).column)))  # type: ignore[union-attr]

    def update(model: type[Model], set_sql: str, where: str, result: str) -> str:
        sql = f"UPDATE {q(model._meta.db_table)} SET {set_sql} WHERE {where}"
        return f"{sql} RETURNING {result}" if returning else sql

    def insert(model: type[Model]) -> _Insert:
        meta = model._meta
        auto: Field[Any, Any] | None = meta.auto_field
        fields = tuple(f for f in meta.local_concrete_fields if f is not auto)
        sql = (
            f"INSERT INTO {q(meta.db_table)} ({', '.join(q(f.column) for f in fields)}) "
            f"VALUES ({', '.join(['%s'] * len(fields))})"
        )
        return _Insert(sql=sql, fields=fields)

    account, held, balance = q(Account._meta.db_table), col(Account, "held"), col(Account, "balance")
    account_columns = ", ".join(col(Account, name) for name in ACCOUNT_COLUMNS)
    updated = col(Account, "updated_at")
    txn_columns = ", ".join(q(f.column) for f in Transaction._meta.concrete_fields)
    txn_set = ", ".join(
        f"{col(Transaction, name)} = %s"
        for name in ("status", "external_reference", "last_error", "completed_at", "updated_at")
    )
    converters = []
    for field in Transaction._meta.concrete_fields:
        expression = field.get_col(Transaction._meta.db_table)
        funcs = (*conn.ops.get_db_converters(expression), *expression.get_db_converters(conn))
        converters.append((expression, funcs))
    statements = _Statements(
        returning=returning,
        hold_open=update(
            Account,
            f"{held} = ROUND({held} + %s, 2), {updated} = %s",
            f"{col(Account, 'user_id')} = %s AND {balance} >= ROUND({held} + %s, 2)",
            account_columns,
        ),
        hold_post=update(
            Account,
            f"{balance} = ROUND({balance} - %s, 2), {held} = ROUND({held} - %s, 2), {updated} = %s",
            f"{col(Account, 'id')} = %s",
            account_columns,
        ),
        hold_void=update(
            Account,
            f"{held} = ROUND({held} - %s, 2), {updated} = %s",
            f"{col(Account, 'id')} = %s",
            account_columns,
        ),
        account_by_user=f"SELECT {account_columns} FROM {account} WHERE {col(Account, 'user_id')} = %s",
        account_by_id=f"SELECT {account_columns} FROM {account} WHERE {col(Account, 'id')} = %s",
        transaction_end=update(
            Transaction,
            txn_set,
            f"{col(Transaction, 'id')} = %s AND {col(Transaction, 'status')} = %s",
            txn_columns,
        ),
        transaction_read=(
            f"SELECT {txn_columns} FROM {q(Transaction._meta.db_table)} WHERE {col(Transaction, 'id')} = %s"
        ),
        hold_resolve=(
            f"UPDATE {q(Hold._meta.db_table)} "
            f"SET {col(Hold, 'status')} = %s, {col(Hold, 'resolved_at')} = %s "
            f"WHERE {col(Hold, 'transaction')} = %s AND {col(Hold, 'status')} = %s"
        ),
        inserts={model: insert(model) for model in (Transaction, Hold, LedgerEntry)},
        transaction_converters=tuple(converters),
    )
    if conn.vendor != "postgresql" or not returning:
        return statements
    open_combined, resolve_combined = _combined_build(conn, statements)
    return dataclasses.replace(statements, open_combined=open_combined, resolve_combined=resolve_combined)


def _combined_build(conn: BaseDatabaseWrapper, statements: _Statements) -> tuple[str, str]:
    """The PostgreSQL forms: the same UPDATEs and INSERTs chained through RETURNING in one statement,
    one round trip instead of three or four. Every step depends on the one before it, so a refused hold
    or an ended transaction writes nothing; the caller checks what the last SELECT returns."""
    q = conn.ops.quote_name

    def col(model: type[Model], name: str) -> str:
        return str(q(str(model._meta.get_field(name).column)))  # type: ignore[union-attr]

    def values(model: type[Model], sources: dict[str, str]) -> tuple[str, str]:
        # INSERT ... SELECT: the literals are cast to the columns' types (a bare NULL would be text)
        fields = statements.inserts[model].fields
        columns = ", ".join(q(f.column) for f in fields)
        exprs = ", ".join(sources.get(f.attname, f"CAST(%s AS {_cast_type(f, conn)})") for f in fields)
        return columns, exprs

    txn_table, hold_table = q(Transaction._meta.db_table), q(Hold._meta.db_table)
    account_table, entry_table = q(Account._meta.db_table), q(LedgerEntry._meta.db_table)
    txn_id, account_id = col(Transaction, "id"), col(Account, "id")
    account_out = ", ".join(f"a.{col(Account, name)}" for name in ACCOUNT_COLUMNS)
    txn_out = ", ".join(f"t.{q(f.column)}" for f in Transaction._meta.concrete_fields)

    t_columns, t_values = values(Transaction, {"account_id": f"a.{account_id}"})
    h_columns, h_values = values(Hold, {"transaction_id": f"t.{txn_id}", "account_id": f"a.{account_id}"})
    open_combined = (
        f"WITH a AS ({statements.hold_open}), "
        f"t AS (INSERT INTO {txn_table} ({t_columns}) SELECT {t_values} FROM a RETURNING {txn_id}), "
        f"h AS (INSERT INTO {hold_table} ({h_columns}) SELECT {h_values} FROM t, a) "
        f"SELECT {account_out} FROM a"
    )

    def acc(name: str) -> str:
        return f"{account_table}.{col(Account, name)}"

    amount = f"t.{col(Transaction, 'amount')}"
    e_columns, e_values = values(
        LedgerEntry,
        {
            "account_id": f"a.{account_id}",
            "transaction_id": f"t.{txn_id}",
            "amount": f"-{amount}",
            "balance_after": f"a.{col(Account, 'balance')}",
        },
    )
    hold_status = col(Hold, "status")
    resolve_combined = (
        f"WITH t AS ({statements.transaction_end}), "
        f"h AS (UPDATE {hold_table} SET {hold_status} = %s, {col(Hold, 'resolved_at')} = %s "
        f"WHERE {col(Hold, 'transaction')} IN (SELECT {txn_id} FROM t) AND {hold_status} = %s RETURNING 1), "
        # the balance goes down by amount * 1 when posted, amount * 0 when voided
        f"a AS (UPDATE {account_table} "
        f"SET {col(Account, 'balance')} = ROUND({acc('balance')} - {amount} * %s, 2), "
        f"{col(Account, 'held')} = ROUND({acc('held')} - {amount}, 2), {col(Account, 'updated_at')} = %s "
        f"FROM t WHERE {acc('id')} = t.{col(Transaction, 'account')} "
        f"RETURNING {', '.join(acc(name) for name in ACCOUNT_COLUMNS)}), "
        f"e AS (INSERT INTO {entry_table} ({e_columns}) SELECT {e_values} FROM a, t WHERE %s) "
        f"SELECT {txn_out}, (SELECT count(*) FROM h), {account_out} FROM t LEFT JOIN a ON true"
    )
    return open_combined, resolve_combined


def _cast_type(field: Field[Any, Any], conn: BaseDatabaseWrapper) -> str:
    return str(field.cast_db_type(conn))  # type: ignore[attr-defined]


def _money(value: Any) -> Decimal:
    """A column read back as Decimal: PostgreSQL sends Decimal, SQLite an int or a float."""
    if isinstance(value, Decimal):
        return value
    return Decimal(repr(value)).quantize(CENT)


def _update_one(
    conn: BaseDatabaseWrapper, statements: _Statements, sql: str, params: Sequence[Any], read: str, key: Any
) -> Sequence[Any] | None:
    """Runs an UPDATE of one row and returns the row after it, or None when the condition matched none;
    without RETURNING, the row is read back by ``read`` with ``key`` (the UPDATE holds its lock)."""
    with conn.cursor() as cursor:
        cursor.execute(sql, params)
        if statements.returning:
            rows = cursor.fetchall()
            return rows[0] if rows else None
        if cursor.rowcount != 1:
            return None
        cursor.execute(read, [key])
        row: Sequence[Any] | None = cursor.fetchone()
        return row


def _account_row(row: Sequence[Any] | None) -> AccountRow | None:
    if row is None:
        return None
    return AccountRow(id=row[0], user_id=row[1], balance=_money(row[2]), held=_money(row[3]))


def _insert(conn: BaseDatabaseWrapper, statements: _Statements, instance: Transaction) -> None:
    """INSERT of a new transaction as ``save(force_insert=True)`` writes it (auto_now fields set), without
    compiling a query; no signals are sent (none are connected)."""
    plan = statements.inserts[Transaction]
    params = [f.get_db_prep_save(f.pre_save(instance, True), conn) for f in plan.fields]
    with conn.cursor() as cursor:
        cursor.execute(plan.sql, params)
    instance._state.adding = False
    instance._state.db = conn.alias


def _insert_values(
    conn: BaseDatabaseWrapper, statements: _Statements, model: type[Model], values: dict[str, Any]
) -> None:
    """INSERT of a row given by attribute name (the rest take their defaults), when no instance is
    needed afterwards; an auto primary key is left to the database."""
    plan = statements.inserts[model]
    with conn.cursor() as cursor:
        cursor.execute(plan.sql, _field_params(conn, plan.fields, values))


def _field_params(
    conn: BaseDatabaseWrapper,
    fields: Sequence[Field[Any, Any]],
    values: dict[str, Any],
    skip: Sequence[str] = (),
) -> list[Any]:
    """The fields' values adapted for the database (the rest take their defaults), ``skip`` left out."""
    return [
        f.get_db_prep_save(values[f.attname] if f.attname in values else f.get_default(), conn)
        for f in fields
        if f.attname not in skip
    ]


def hold_open(*, user_id: int, amount: Decimal, now: datetime, **fields: Any) -> Transaction | None:
    """A PENDING transaction (``fields``: kind, currency, offer, partner, reference, ...) with a hold of
    ``amount`` on the user's account, if its available balance covers it: one conditional UPDATE of the
    account and two INSERTs. None when it does not, or the user has no account; nothing is written then.

    On PostgreSQL an UPDATE that meets a concurrent one waits for it and re-checks the condition on the
    row it left; SQLite runs one writer at a time (BEGIN IMMEDIATE)."""
    conn, statements = _db()
    fields.setdefault("id", uuid.uuid4())
    txn = Transaction(amount=amount, **fields)
    account_params = [amount, conn.ops.adapt_datetimefield_value(now), user_id, amount]
    hold = {"amount": amount, "created_at": now}
    if statements.open_combined is not None:
        txn_fields = statements.inserts[Transaction].fields
        txn_params = [
            f.get_db_prep_save(f.pre_save(txn, True), conn) for f in txn_fields if f.attname != "account_id"
        ]
        hold_params = _field_params(
            conn, statements.inserts[Hold].fields, hold, skip=("transaction_id", "account_id")
        )
        with conn.cursor() as cursor:
            cursor.execute(statements.open_combined, [*account_params, *txn_params, *hold_params])
            account = _account_row(cursor.fetchone())
        if account is None:
            return None
        txn.account = account.instance(conn.alias)
        txn._state.adding, txn._state.db = False, conn.alias
        return txn
    row = _update_one(
        conn, statements, statements.hold_open, account_params, statements.account_by_user, user_id
    )
    account = _account_row(row)
    if account is None:
        return None
    txn.account = account.instance(conn.alias)
    _insert(conn, statements, txn)
    hold.update(transaction_id=txn.pk, account_id=account.id)
    _insert_values(conn, statements, Hold, hold)
    return txn


def hold_resolve(
    *, transaction_id: Any, status: str, now: datetime, external_reference: str = "", error: str = ""
) -> tuple[Transaction, AccountRow] | None:
    """Ends a PENDING transaction: SUCCESS posts its hold (the balance goes down by the amount, with a
    debit entry), FAILED voids it (the amount is available again). None when the transaction was not
    PENDING: a repeated or late answer writes nothing. Raises if the hold was not active, so that the
    caller's transaction rolls back rather than lose or mint money."""
    conn, statements = _db()
    db_now = conn.ops.adapt_datetimefield_value(now)
    pk = Transaction._meta.pk.get_db_prep_value(transaction_id, conn)
    success = status == Transaction.Status.SUCCESS
    hold_status = Hold.Status.POSTED.value if success else Hold.Status.VOIDED.value
    end_params = [
        status,
        external_reference[:100],
        error[:2000],
        db_now,
        db_now,
        pk,
        Transaction.Status.PENDING.value,
    ]
    entry = {"kind": LedgerEntry.Kind.DEBIT.value, "created_at": now}
    if statements.resolve_combined is not None:
        entry_params = _field_params(
            conn,
            statements.inserts[LedgerEntry].fields,
            entry,
            skip=("account_id", "transaction_id", "amount", "balance_after"),
        )
        params = [
            *end_params,
            *(hold_status, db_now, Hold.Status.ACTIVE.value),
            *(1 if success else 0, db_now),
            *entry_params,
            success,
        ]
        with conn.cursor() as cursor:
            cursor.execute(statements.resolve_combined, params)
            row = cursor.fetchone()
        if row is None:
            return None
        width = len(statements.transaction_converters)
        txn = _transaction_from_row(conn, statements, row[:width])
        if row[width] != 1:
            raise RuntimeError(f"transaction {txn.pk} has no active hold to resolve")
        account = _account_row(row[width + 1 :] if row[width + 1] is not None else None)
        if account is None:
            raise RuntimeError(f"transaction {txn.pk} has no account")
        txn.account = account.instance(conn.alias)
        return txn, account
    row = _update_one(
        conn, statements, statements.transaction_end, end_params, statements.transaction_read, pk
    )
    if row is None:
        return None
    txn = _transaction_from_row(conn, statements, row)
    with conn.cursor() as cursor:
        cursor.execute(statements.hold_resolve, [hold_status, db_now, pk, Hold.Status.ACTIVE.value])
        if cursor.rowcount != 1:
            raise RuntimeError(f"transaction {txn.pk} has no active hold to resolve")
    if success:
        params = [txn.amount, txn.amount, db_now, txn.account_id]
        row = _update_one(
            conn, statements, statements.hold_post, params, statements.account_by_id, txn.account_id
        )
    else:
        params = [txn.amount, db_now, txn.account_id]
        row = _update_one(
            conn, statements, statements.hold_void, params, statements.account_by_id, txn.account_id
        )
    account = _account_row(row)
    if account is None:
        raise RuntimeError(f"transaction {txn.pk} has no account")
    if success:
        entry.update(
            account_id=account.id, transaction_id=txn.pk, amount=-txn.amount, balance_after=account.balance
        )
        _insert_values(conn, statements, LedgerEntry, entry)
    txn.account = account.instance(conn.alias)
    return txn, account


def _transaction_from_row(
    conn: BaseDatabaseWrapper, statements: _Statements, row: Sequence[Any]
) -> Transaction:
    """A full Transaction from a row of all its columns, converted as a query would convert them."""
    values = []
    for value, (expression, funcs) in zip(row, statements.transaction_converters, strict=True):
        for func in funcs:
            value = func(value, expression, conn)
        values.append(value)
    return Transaction.from_db(conn.alias, [f.attname for f in Transaction._meta.concrete_fields], values)
