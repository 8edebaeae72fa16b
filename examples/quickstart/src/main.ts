// `npm start` (memory://) or `OMNIBUS_URL=redis://127.0.0.1:6379 npm start`.
import { runRestaurant } from './restaurant.ts';

try {
  await runRestaurant();
} catch (error) {
  console.error(error);
  process.exitCode = 1;
}
