import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { connect, type Message } from '@omnibus/core';
import { createMenu, type Order, orderSchema } from './menu.ts';

export interface RestaurantOptions {
  /** Broker URL; `undefined` lets `connect()` read `OMNIBUS_URL`, else use `memory://`. */
  url?: string | undefined;
  /** Where the story goes. @default console.log */
  log?: (line: string) => void;
  /** How long a cook takes per dish, in ms. @default 40 */
  cookingTimeMs?: number;
  /**
   * Namespace of the restaurant's names on the broker. The same one every run, so a real broker
   * keeps one topic and one subscription for the quickstart instead of a new pair per run.
   * @default 'quickstart-'
   */
  prefix?: string;
}

/** What happened, for the test (and anyone curious). */
export interface RestaurantReport {
  /** Adapter that served the run (`memory`, `redis`, …). */
  readonly adapter: string;
  /** This service's tag, carried by each of its orders in the `service` attribute. */
  readonly service: string;
  /** Dead letters an earlier, interrupted service left behind, cleared at opening. */
  readonly clearedDeadLetters: number;
  /** Orders of an earlier, interrupted service that were still waiting: binned, not cooked. */
  readonly binned: readonly string[];
  readonly orders: readonly (Order & { id: string })[];
  /** Orders the waiter sent before any cook had started: kept for the kitchen by her declaration. */
  readonly sentBeforeCooks: readonly string[];
  /** Order id → how many times a cook finished it (exactly once each, if all went well). */
  readonly cooked: Readonly<Record<string, number>>;
  /** Order id → the cook who finished it. */
  readonly cookedBy: Readonly<Record<string, string>>;
  /** Orders whose first attempt failed and that were retried. */
  readonly retried: readonly string[];
  /** The dead-letter queue as the manager found it, before fixing anything. */
  readonly deadLetters: readonly { id: string; item: string; reason: string; attempts: number }[];
  /** How many dead letters the manager redrove. */
  readonly redriven: number;
  /** Dead letters left at closing time. */
  readonly deadLettersAtClose: number;
}

const ORDERS: readonly Order[] = [
  { table: 1, item: 'Burger' },
  { table: 2, item: 'Pizza' },
  { table: 3, item: 'Salad' },
  { table: 4, item: 'Taco' },
  { table: 5, item: 'Pizza' },
  { table: 6, item: 'Sushi' }, // not on the menu: fails validation, goes to the DLQ
  { table: 7, item: 'Burger' },
  { table: 8, item: 'Taco' },
];

/** The order the cook drops on the floor on its first attempt, to show a retry. */
const DROPPED_ORDER_INDEX = 3;

/** How many orders the waiter takes before the cooks arrive. */
const ORDERS_BEFORE_COOKS = 4;

/**
 * The kitchen subscription's settings, fixed when it is created. The waiter declares them and the
 * cooks ask for the same: a consumer asking for others would get `AlreadyExists`.
 */
const KITCHEN = { maxAttempts: 3 } as const;

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(10);
  }
}

/**
 * Runs one service: the waiter takes the first orders before the cooks arrive (her producer
 * declares the `kitchen` subscription, so they wait for the cooks instead of being lost), two cooks
 * compete for them on that subscription, an order the kitchen can't cook lands in the dead-letter
 * queue with its reason, and once the manager puts the dish on the menu it is redriven and cooked.
 */
export async function runRestaurant(options: RestaurantOptions = {}): Promise<RestaurantReport> {
  const log = options.log ?? console.log;
  const cookingTimeMs = options.cookingTimeMs ?? 40;

  // The same names every run (`quickstart-orders`, `quickstart-kitchen`): Omnibus has no call that
  // deletes a topic, so a fresh prefix per run would leave a topic, a subscription and a DLQ behind
  // on a real broker each time. Instead each run reuses them and leaves them empty: every order is
  // acked, the dead letter is redriven, and whatever an interrupted run left is cleared at opening.
  const prefix = options.prefix ?? 'quickstart-';
  // Tags this run's orders, to tell them from orders an interrupted run left on the rail.
  const service = randomUUID().slice(0, 8);
  const bus = await connect(options.url, { prefix });
  log(`The restaurant opens, on ${bus.adapter} (service ${service}).`);

  const menu = createMenu();
  const cooked: Record<string, number> = {};
  const cookedBy: Record<string, string> = {};
  const retried: string[] = [];
  const binned: string[] = [];
  const orderIds = ORDERS.map((_, index) => `order-${index + 1}`);
  const droppedOrderId = orderIds[DROPPED_ORDER_INDEX];

  const cook = (name: string) => async (message: Message<Order>) => {
    const { table, item } = message.body;
    if (message.attributes.service !== service) {
      // Acked without cooking: nobody is waiting for it any more.
      binned.push(message.id);
      log(`${name}: ${message.id} is left over from an earlier service, binned.`);
      return;
    }
    // Delivery is at least once: the order id is the key to not serve a dish twice.
    if (cooked[message.id] !== undefined) {
      log(`${name}: ${message.id} was already served, skipping it.`);
      return;
    }
    const again = message.attempt > 1 ? ` (attempt ${message.attempt})` : '';
    log(`${name}: cooking ${item} for table ${table}${again}.`);
    await sleep(cookingTimeMs);
    if (message.id === droppedOrderId && message.attempt === 1) {
      retried.push(message.id);
      log(`${name}: oops, dropped the ${item} for table ${table}! It goes back on the rail.`);
      throw new Error(`${name} dropped the ${item}`);
    }
    cooked[message.id] = (cooked[message.id] ?? 0) + 1;
    cookedBy[message.id] = name;
    log(`${name}: ${item} for table ${table} is ready.`);
  };

  // The waiter declares the subscription she feeds. Her first send creates the topic, the
  // `kitchen` subscription and its DLQ before the order is published, so orders taken before any
  // cook has started wait for the cooks. Without the declaration, a message sent to a topic that
  // has no subscription yet is dropped, on every broker.
  const waiter = bus.producer<Order>('orders', { subscriptions: { kitchen: KITCHEN } });
  const sendOrder = async (index: number) => {
    const order = ORDERS[index]!;
    const id = orderIds[index]!;
    log(`Wendy the waiter: table ${order.table} would like a ${order.item} (${id}).`);
    await waiter.send(order, { id, attributes: { waiter: 'Wendy', service } });
  };

  // Two cooks on one subscription compete: each order goes to exactly one of them.
  const kitchen = {
    ...KITCHEN,
    concurrency: 1,
    retry: { initialDelayMs: 50, maxDelayMs: 200 },
    schema: orderSchema(menu),
  };
  const ana = bus.consumer<Order>('orders', 'kitchen', kitchen);
  const ben = bus.consumer<Order>('orders', 'kitchen', kitchen);
  const dlq = bus.deadLetters<Order>('orders', 'kitchen');

  try {
    log('The cooks are running late; Wendy takes the first orders anyway.');
    const sentBeforeCooks = orderIds.slice(0, ORDERS_BEFORE_COOKS);
    for (let index = 0; index < ORDERS_BEFORE_COOKS; index++) await sendOrder(index);

    // No cook has started yet, so the DLQ holds only what an interrupted service left there.
    const clearedDeadLetters = (await dlq.purge()) ?? 0;
    if (clearedDeadLetters > 0)
      log(`The manager clears ${clearedDeadLetters} dead letters left from an earlier service.`);
    log(`Ana and Ben arrive; the ${ORDERS_BEFORE_COOKS} orders Wendy took are waiting for them.\n`);
    await ana.start(cook('Ana'));
    await ben.start(cook('Ben'));

    for (let index = ORDERS_BEFORE_COOKS; index < ORDERS.length; index++) await sendOrder(index);

    const good = orderIds.filter((_, index) => menu.has(ORDERS[index]!.item));
    await until('the good orders to be cooked', () => good.every((id) => cooked[id] !== undefined));
    await until(
      'the bad order to reach the dead-letter queue',
      async () => (await dlq.count()) >= 1,
    );

    const tally = (name: string) => Object.values(cookedBy).filter((cook) => cook === name).length;
    log(
      `\nAll ${good.length} orders on the menu are served: Ana cooked ${tally('Ana')}, Ben ${tally('Ben')}.`,
    );

    const letters = await dlq.peek(10);
    log(
      `The manager checks the dead-letter queue: ${letters.length} order${letters.length === 1 ? '' : 's'}.`,
    );
    const deadLetters = letters.map((letter) => {
      const body = letter.body as Partial<Order>;
      const item = typeof body.item === 'string' ? body.item : '?';
      log(
        `  ${letter.id}: ${item} for table ${body.table}, reason "${letter.reason}", attempts ${letter.attempts}`,
      );
      return { id: letter.id, item, reason: letter.reason, attempts: letter.attempts };
    });

    log('The manager teaches the cooks Sushi and sends the order back to the kitchen.\n');
    menu.add('Sushi');
    const redriven = await dlq.redrive();
    const redrivenIds = deadLetters.map((letter) => letter.id);
    await until('the redriven orders to be cooked', () =>
      redrivenIds.every((id) => cooked[id] !== undefined),
    );
    const deadLettersAtClose = await dlq.count();
    log(`\nEvery order is served (${redriven} redriven). ${deadLettersAtClose} left in the DLQ.`);

    return {
      adapter: bus.adapter,
      service,
      clearedDeadLetters,
      binned,
      orders: ORDERS.map((order, index) => ({ ...order, id: orderIds[index]! })),
      sentBeforeCooks,
      cooked,
      cookedBy,
      retried,
      deadLetters,
      redriven,
      deadLettersAtClose,
    };
  } finally {
    await Promise.all([ana.stop(), ben.stop()]);
    await bus.close();
    log('The restaurant is closed.');
  }
}
