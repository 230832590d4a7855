"""The ledger's hot path: a hold placed, posted or voided in a few SQL statements, each prepared once
per model from its metadata and run with parameters adapted by the model's own fields.

Query building in the ORM cost more than the database work here, so these statements skip it. The
guarantees stay in the database: the account's CHECK constraints, the conditional UPDATEs that let a
hold and its transaction leave ``active`` / PENDING once, one entry per transaction and kind. Callers
run these inside ``transaction.atomic()``; the account row stays locked from its UPDATE to the commit.
Money arithmetic in SQL is wrapped in ROUND(..., 2): SQLite keeps decimals as floats, and rounding
gives back the same float that storing the exact two-place value from Python gives.
"""

# ruff: noqa: S608 - the SQL is built from the models' table and column names, quoted by the backend;
# every value is a bound parameter

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar

from django.db import connection
from django.db.models import Field, Model

from herald.wallet.models import Account, Hold, LedgerEntry, Transaction

CENT = Decimal("0.01")
M = TypeVar("M", bound=Model)
Converter = Callable[[Any, Any, Any], Any]

_sql: dict[tuple[str, str], str] = {}
_converters: dict[tuple[str, type[Model]], list[tuple[Any, list[Converter]]]] = {}


@dataclass(frozen=True, slots=True)
class AccountRow:
    """The account as the last ledger UPDATE left it (inside the caller's transaction)."""

    id: int
    user_id: int
    balance: Decimal
    held: Decimal

    def instance(self) -> Account:
        # a loaded-fields-only instance (like ``.only()``), so txn.account.user_id needs no query
        return Account.from_db(
            connection.alias,
            ["id", "user_id", "balance", "held"],
            [self.id, self.user_id, self.balance, self.held],
        )


def _returning() -> bool:
    # UPDATE/INSERT ... RETURNING: PostgreSQL, and SQLite from 3.35 (Django's flag for the same support)
    return bool(connection.features.can_return_columns_from_insert)


def _q(name: str) -> str:
    return str(connection.ops.quote_name(name))


def _col(model: type[Model], name: str) -> str:
    return _q(str(model._meta.get_field(name).column))  # type: ignore[union-attr]


def _table(model: type[Model]) -> str:
    return _q(model._meta.db_table)


def _statement(key: str, build: Callable[[], str]) -> str:
    cache_key = (f"{connection.vendor}:{_returning()}", key)
    sql = _sql.get(cache_key)
    if sql is None:
        sql = _sql[cache_key] = build()
    return sql


def _money(value: Any) -> Decimal:
    """A column read back as Decimal: PostgreSQL sends Decimal, SQLite an int or float."""
    if isinstance(value, Decimal):
        return value
    return Decimal(repr(value)).quantize(CENT)


def _db_now(now: datetime) -> Any:
    return connection.ops.adapt_datetimefield_value(now)


def _from_row(model: type[M], row: Sequence[Any]) -> M:
    """A full instance from a row of all concrete columns in field order, converted as a query would."""
    key = (connection.vendor, model)
    converters = _converters.get(key)
    if converters is None:
        converters = []
        for field in model._meta.concrete_fields:
            col = field.get_col(model._meta.db_table)
            converters.append(
                (col, [*connection.ops.get_db_converters(col), *col.get_db_converters(connection)])
            )
        _converters[key] = converters
    values = []
    for value, (col, funcs) in zip(row, converters, strict=True):
        for func in funcs:
            value = func(value, col, connection)
        values.append(value)
    return model.from_db(connection.alias, [f.attname for f in model._meta.concrete_fields], values)


def _all_columns(model: type[Model]) -> str:
    return ", ".join(_q(f.column) for f in model._meta.concrete_fields)


def row_insert(instance: Model) -> None:
    """INSERT of a new instance, as ``save(force_insert=True)`` writes it (auto_now fields included,
    the auto primary key read back), without the ORM's query compilation; no signals are sent."""
    model = type(instance)
    meta = model._meta
    auto: Field[Any, Any] | None = meta.auto_field
    fields = [f for f in meta.local_concrete_fields if f is not auto]

    def build() -> str:
        sql = (
            f"INSERT INTO {_table(model)} ({', '.join(_q(f.column) for f in fields)}) "
            f"VALUES ({', '.join(['%s'] * len(fields))})"
        )
        if auto is not None and _returning():
            sql += f" RETURNING {_q(auto.column)}"
        return sql

    sql = _statement(f"insert:{meta.label}", build)
    params = [f.get_db_prep_save(f.pre_save(instance, True), connection) for f in fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        if auto is not None:
            if _returning():
                pk = cursor.fetchone()[0]
            else:
                pk = connection.ops.last_insert_id(cursor, meta.db_table, auto.column)
            setattr(instance, auto.attname, pk)
    instance._state.adding = False
    instance._state.db = connection.alias


def _account_update(
    *,
    key: str,
    set_sql: str,
    set_params: list[Any],
    by: str,
    value: int,
    condition: str = "",
    extra: Sequence[Any] = (),
) -> AccountRow | None:
    """UPDATE of the account whose column ``by`` is ``value`` (and ``condition`` holds), returning its new
    state, or None when no row matched. The row stays locked by the UPDATE until commit."""
    table, columns = _table(Account), "id, user_id, balance, held"
    where = f"{_col(Account, by)} = %s" + (f" AND {condition}" if condition else "")
    params = [*set_params, value, *extra]
    if _returning():
        sql = _statement(key, lambda: f"UPDATE {table} SET {set_sql} WHERE {where} RETURNING {columns}")
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        if not rows:
            return None
        row = rows[0]
    else:
        sql = _statement(key, lambda: f"UPDATE {table} SET {set_sql} WHERE {where}")
        select = _statement(
            f"{key}:read", lambda: f"SELECT {columns} FROM {table} WHERE {_col(Account, by)} = %s"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            if cursor.rowcount != 1:
                return None
            cursor.execute(select, [value])
            row = cursor.fetchone()
    return AccountRow(id=row[0], user_id=row[1], balance=_money(row[2]), held=_money(row[3]))


def hold_place(*, user_id: int, amount: Decimal, now: datetime) -> AccountRow | None:
    """Sets ``amount`` aside on the user's account if its available balance covers it: one conditional
    UPDATE. None when it does not (or the user has no account); nothing is written then."""
    held, balance, updated_at = _col(Account, "held"), _col(Account, "balance"), _col(Account, "updated_at")
    return _account_update(
        key="hold_place",
        set_sql=f"{held} = ROUND({held} + %s, 2), {updated_at} = %s",
        set_params=[amount, _db_now(now)],
        by="user_id",
        value=user_id,
        condition=f"{balance} >= ROUND({held} + %s, 2)",
        extra=[amount],
    )


def hold_resolve(
    *, transaction_id: Any, status: str, now: datetime, external_reference: str = "", error: str = ""
) -> tuple[Transaction, AccountRow] | None:
    """Ends a PENDING transaction: SUCCESS posts its hold (the balance goes down by the amount, with a
    debit entry), FAILED voids it (the amount is available again). None when the transaction was not
    PENDING: a repeated or late answer writes nothing. Raises if the hold was not active, so that the
    caller's transaction rolls back instead of losing or minting money."""
    success = status == Transaction.Status.SUCCESS
    txn = _transaction_end(
        transaction_id=transaction_id,
        status=status,
        now=now,
        external_reference=external_reference[:100],
        error=error[:2000],
    )
    if txn is None:
        return None
    db_now = _db_now(now)
    hold_sql = _statement(
        "hold_resolve",
        lambda: (
            f"UPDATE {_table(Hold)} SET {_col(Hold, 'status')} = %s, {_col(Hold, 'resolved_at')} = %s "
            f"WHERE {_col(Hold, 'transaction')} = %s AND {_col(Hold, 'status')} = %s"
        ),
    )
    txn_pk = Transaction._meta.pk.get_db_prep_value(txn.pk, connection)
    with connection.cursor() as cursor:
        cursor.execute(
            hold_sql,
            [
                Hold.Status.POSTED.value if success else Hold.Status.VOIDED.value,
                db_now,
                txn_pk,
                Hold.Status.ACTIVE.value,
            ],
        )
        resolved = cursor.rowcount
    if resolved != 1:
        raise RuntimeError(f"transaction {txn.pk} has no active hold to resolve")
    held, balance, updated_at = _col(Account, "held"), _col(Account, "balance"), _col(Account, "updated_at")
    if success:
        account = _account_update(
            key="hold_post",
            set_sql=(
                f"{balance} = ROUND({balance} - %s, 2), {held} = ROUND({held} - %s, 2), {updated_at} = %s"
            ),
            set_params=[txn.amount, txn.amount, db_now],
            by="id",
            value=txn.account_id,
        )
    else:
        account = _account_update(
            key="hold_void",
            set_sql=f"{held} = ROUND({held} - %s, 2), {updated_at} = %s",
            set_params=[txn.amount, db_now],
            by="id",
            value=txn.account_id,
        )
    if account is None:
        raise RuntimeError(f"transaction {txn.pk} has no account")
    if success:
        row_insert(
            LedgerEntry(
                account_id=account.id,
                transaction_id=txn.pk,
                kind=LedgerEntry.Kind.DEBIT.value,
                amount=-txn.amount,
                balance_after=account.balance,
            )
        )
    txn.account = account.instance()
    return txn, account


def _transaction_end(
    *, transaction_id: Any, status: str, now: datetime, external_reference: str, error: str
) -> Transaction | None:
    """PENDING -> ``status`` by one conditional UPDATE, returning the row, or None if it was not PENDING."""
    table = _table(Transaction)
    set_sql = ", ".join(
        f"{_col(Transaction, name)} = %s"
        for name in ("status", "external_reference", "last_error", "completed_at", "updated_at")
    )
    where = f"{_col(Transaction, 'id')} = %s AND {_col(Transaction, 'status')} = %s"
    db_now = _db_now(now)
    pk = Transaction._meta.pk.get_db_prep_value(transaction_id, connection)
    params = [status, external_reference, error, db_now, db_now, pk, Transaction.Status.PENDING.value]
    with connection.cursor() as cursor:
        if _returning():
            sql = _statement(
                "transaction_end",
                lambda: f"UPDATE {table} SET {set_sql} WHERE {where} RETURNING {_all_columns(Transaction)}",
            )
            cursor.execute(sql, params)
            rows = cursor.fetchall()
            if not rows:
                return None
            row = rows[0]
        else:
            sql = _statement("transaction_end", lambda: f"UPDATE {table} SET {set_sql} WHERE {where}")
            cursor.execute(sql, params)
            if cursor.rowcount != 1:
                return None
            select = _statement(
                "transaction_end:read",
                lambda: (
                    f"SELECT {_all_columns(Transaction)} FROM {table} WHERE {_col(Transaction, 'id')} = %s"
                ),
            )
            cursor.execute(select, [pk])
            row = cursor.fetchone()
    return _from_row(Transaction, row)
