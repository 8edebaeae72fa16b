import type { StandardSchemaV1 } from '@standard-schema/spec';

/** An order as the waiter sends it and the cooks receive it. */
export interface Order {
  table: number;
  item: string;
}

/** What the kitchen can cook. Mutable: the manager may add a dish during service. */
export function createMenu(items: Iterable<string> = ['Burger', 'Pizza', 'Salad', 'Taco']) {
  return new Set<string>(items);
}

/**
 * A Standard Schema for orders, written by hand to show there's no magic: zod, valibot or arktype
 * schemas plug in the same way. It checks against the live menu, so an order for a dish the kitchen
 * doesn't cook fails validation, and Omnibus dead-letters it at once with the issue as its reason.
 */
export function orderSchema(menu: ReadonlySet<string>): StandardSchemaV1<unknown, Order> {
  return {
    '~standard': {
      version: 1,
      vendor: 'omnibus-quickstart',
      validate(value) {
        const order = value as Partial<Order> | null;
        if (
          typeof order !== 'object' ||
          order === null ||
          typeof order.table !== 'number' ||
          typeof order.item !== 'string'
        ) {
          return { issues: [{ message: 'an order needs a table number and an item' }] };
        }
        if (!menu.has(order.item)) {
          return { issues: [{ message: `${order.item} is not on the menu`, path: ['item'] }] };
        }
        return { value: { table: order.table, item: order.item } };
      },
    },
  };
}
